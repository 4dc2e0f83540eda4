// Engine readiness: each engine the configuration requires (default_engine, per project) can
// actually work on this worker: logged in or a key present, its sandbox and kai's containment
// can start, and a model is set where the CLI needs one. Installed-but-unrequired engines are
// only reported by the Engines check (their --version).
import { checkEngineHealth, type EngineHealthCheck } from '../../activities/engine/health';
import { DEFAULT_BINARIES, isEngineName } from '../../activities/engine/registry';
import { findExecutable } from '../../activities/engine/binary';
import { requiredEngines } from './engines';
import { fail, pass, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const engineReadinessCheck: DoctorCheck = { name: 'Engine readiness', run: engineReadiness };

const LABEL: Record<EngineHealthCheck['check'], string> = {
  installed: 'installed',
  credentials: 'login',
  sandbox: 'sandbox',
  model: 'model',
};

function toResult(h: EngineHealthCheck): CheckResult {
  const check = `Engine ${h.engine} ${LABEL[h.check]}`;
  if (h.level === 'ok') return pass(check, h.detail);
  if (h.level === 'warn') return warn(check, h.detail, h.fix ?? 'see docs/engines.md');
  return fail(check, h.detail, h.fix ?? 'see docs/engines.md');
}

async function engineReadiness({ config, env, timeoutMs }: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const name of requiredEngines(config).keys()) {
    if (!isEngineName(name)) continue; // the Engines check already failed it
    if (name !== 'script' && !findExecutable(config.engines[name]?.binary ?? DEFAULT_BINARIES[name], env.PATH)) continue; // likewise
    const checks = await checkEngineHealth(name, { config, env, timeoutMs: Math.max(timeoutMs, 1000) });
    // "installed" is the Engines check's line; the rest say whether the engine can work.
    results.push(...checks.filter((h) => h.check !== 'installed').map(toResult));
  }
  return results;
}
