// `kai doctor`: checks that everything kai needs is in place, one line per check, each failure
// with a one-line fix. Every check is bounded by a timeout and the checks run concurrently, so a
// dead dependency costs seconds, not minutes. Nothing it prints carries a secret.
// The checks themselves are listed in ./checks.ts, one file each.
import { MASK, secretValues } from '../../config/secrets';
import { fail, messageOf, type CheckResult, type CheckStatus, type DoctorCheck, type DoctorContext } from './check';
import { DOCTOR_CHECKS } from './checks';
import type { KaiConfig } from '../../config/schema';

export type { CheckResult, CheckStatus, DoctorCheck, DoctorContext } from './check';
export { DOCTOR_CHECKS } from './checks';

export interface DoctorOptions {
  config: KaiConfig;
  print: (line: string) => void;
  /** PATH, GITHUB_TOKEN, LINEAR_WEBHOOK_SECRET, TEMPORAL_*...; process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Bound on each check, in ms (default 5 s). */
  timeoutMs?: number;
  /** The checks to run, in the order printed (default DOCTOR_CHECKS). */
  checks?: readonly DoctorCheck[];
}

const LABEL: Record<CheckStatus, string> = { pass: '[ ok ]', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' };
const DEFAULT_TIMEOUT_MS = 5_000;
/** Variables whose values never appear in the doctor's output. */
const SECRET_ENV = ['GITHUB_TOKEN', 'GH_TOKEN', 'LINEAR_OAUTH_TOKEN', 'LINEAR_WEBHOOK_SECRET', 'LINEAR_CLIENT_SECRET', 'TEMPORAL_API_KEY', 'DATABASE_URL'];

/** A check that cannot throw: an unexpected error is that check's failure. */
async function guarded(check: DoctorCheck, ctx: DoctorContext): Promise<CheckResult[]> {
  try {
    return await check.run(ctx);
  } catch (err) {
    return [fail(check.name, `the check itself failed: ${messageOf(err)}`, 'Run with KAI_LOG_LEVEL=debug and report it if it persists.')];
  }
}

/** Every check, in the order given. `secrets` receives every secret the checks handle (from
 *  the configuration, the environment, a stored token) so the caller can keep them out of output. */
export async function runChecks(
  opts: Omit<DoctorOptions, 'print'>,
  onResults: (results: CheckResult[]) => void = () => undefined,
  secrets: Set<string> = new Set(),
): Promise<CheckResult[]> {
  const env = opts.env ?? process.env;
  for (const s of secretValues(opts.config)) secrets.add(s);
  for (const name of SECRET_ENV) {
    const v = env[name];
    if (v) secrets.add(v);
  }
  const memo = new Map<string, Promise<unknown>>();
  const ctx: DoctorContext = {
    config: opts.config,
    env,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    secrets,
    shared<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (!memo.has(key)) memo.set(key, compute());
      return memo.get(key) as Promise<T>;
    },
  };
  // Started together, printed in order as each finishes.
  const running = (opts.checks ?? DOCTOR_CHECKS).map((check) => guarded(check, ctx));
  const results: CheckResult[] = [];
  for (const check of running) {
    const r = await check;
    onResults(r);
    results.push(...r);
  }
  return results;
}

function scrubber(secrets: Set<string>): (line: string) => string {
  return (line) => {
    let out = line;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join(MASK);
    return out;
  };
}

export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const secrets = new Set<string>();
  const scrub = scrubber(secrets);
  const width = 18;
  const results = await runChecks(
    opts,
    (group) => {
      for (const r of group) {
        opts.print(scrub(`${LABEL[r.status]} ${`${r.check}:`.padEnd(width)} ${r.detail}`));
        if (r.fix && r.status !== 'pass') opts.print(scrub(`${' '.repeat(LABEL[r.status].length)} ${'fix:'.padEnd(width)} ${r.fix}`));
      }
    },
    secrets,
  );
  const failed = results.filter((r) => r.status === 'fail');
  const warnings = results.filter((r) => r.status === 'warn').length;
  opts.print('');
  if (failed.length === 0) {
    opts.print(`kai doctor: all required checks passed${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`);
    return 0;
  }
  opts.print(`kai doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => r.check).join(', ')}.`);
  return 1;
}
