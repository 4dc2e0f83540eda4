// Engines: every engine a session may run is installed and answers --version; the engines the
// configuration requires (default_engine, per project) fail the doctor when missing.
import { findExecutable } from '../../activities/engine/binary';
import { DEFAULT_BINARIES, ENGINE_NAMES, isEngineName, type EngineName } from '../../activities/engine/registry';
import type { KaiConfig } from '../../config/schema';
import { runCommand } from '../../util';
import { fail, firstLine, pass, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const enginesCheck: DoctorCheck = { name: 'Engines', run: installedEngines };

/** Engines sessions will use without being asked, and which key says so. */
export function requiredEngines(config: KaiConfig): Map<string, string> {
  const required = new Map<string, string>([[config.default_engine, 'default_engine']]);
  for (const [alias, project] of Object.entries(config.projects)) {
    if (project.default_engine && !required.has(project.default_engine)) required.set(project.default_engine, `projects.${alias}.default_engine`);
  }
  for (const [key, engine] of Object.entries(config.plugins.linear.project_engines)) {
    if (!required.has(engine)) required.set(engine, `plugins.linear.project_engines.${key}`);
  }
  return required;
}

async function engineCheck(name: string, config: KaiConfig, env: NodeJS.ProcessEnv, ms: number, requiredBy: string | undefined): Promise<CheckResult | undefined> {
  const check = `Engine ${name}`;
  if (!isEngineName(name)) {
    const where = requiredBy ?? `[engines.${name}]`;
    const detail = `"${name}" (from ${where}) is not an engine kai knows`;
    const fix = `Use one of ${ENGINE_NAMES.join(', ')}.`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  const engine: EngineName = name;
  if (engine === 'script') {
    if (!requiredBy && !config.engines.script) return undefined;
    return pass(check, 'runs its command through /bin/sh; nothing to install');
  }
  const binary = config.engines[engine]?.binary ?? DEFAULT_BINARIES[engine];
  const role = requiredBy ? `it is required by ${requiredBy}` : 'only needed by issues that ask for it';
  const found = findExecutable(binary, env.PATH);
  if (!found) {
    const detail = `"${binary}" is not on PATH (${role})`;
    const fix = `Install ${engine}, or set [engines.${engine}] binary = "/path/to/${binary}".`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  const run = await runCommand(found, ['--version'], { ms, env });
  const version = firstLine(run.stdout) || firstLine(run.stderr);
  if (!run.ok) {
    const detail = `found ${found}, but \`${binary} --version\` failed (${run.problem})${version ? `: ${version}` : ''}`;
    const fix = `Run \`${found} --version\` yourself to see what is wrong; reinstall ${engine} if needed.`;
    return requiredBy ? fail(check, detail, fix) : warn(check, detail, fix);
  }
  return pass(check, `${found}, ${version || 'version not reported'}${requiredBy ? ` (${requiredBy})` : ''}`);
}

async function installedEngines({ config, env, timeoutMs: ms }: DoctorContext): Promise<CheckResult[]> {
  const required = requiredEngines(config);
  // Engines nobody asked for and that are not installed say nothing: kai knows more engines than
  // a worker needs.
  const installed = ENGINE_NAMES.filter((n) => n !== 'script' && findExecutable(DEFAULT_BINARIES[n], env.PATH));
  const names = [...new Set<string>([config.default_engine, ...required.keys(), ...Object.keys(config.engines), ...installed])];
  const results = await Promise.all(names.map((n) => engineCheck(n, config, env, ms, required.get(n))));
  return results.filter((r): r is CheckResult => r !== undefined);
}
