// Runs the real `kai` program in-process: commander set to report instead of exiting, and
// stdout/stderr captured, so a test sees exactly what a user would and the exit code.
import type { Command } from 'commander';
import { buildProgram, main } from '../../src/cli/main';

export interface KaiRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every variable that changes what kai reads; cleared for each run so the host cannot leak in. */
const ISOLATED_ENV = [
  'KAI_CONFIG',
  'LINEAR_OAUTH_TOKEN',
  'LINEAR_APP_ID',
  'LINEAR_WEBHOOK_SECRET',
  'LINEAR_CLIENT_ID',
  'LINEAR_CLIENT_SECRET',
  'LINEAR_TOKEN_FILE',
  'LINEAR_API_URL',
  'DATABASE_URL',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'KAI_LOG_LEVEL',
  'KAI_LOG_FORMAT',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
];

export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap((c) => allCommands(c))];
}

/** The program with commander's exits turned into thrown CommanderErrors and its output captured. */
export function testProgram(out: (s: string) => void, err: (s: string) => void): Command {
  const program = buildProgram();
  for (const c of allCommands(program)) c.exitOverride().configureOutput({ writeOut: out, writeErr: err });
  return program;
}

export async function runKai(args: string[], env: Record<string, string | undefined> = {}): Promise<KaiRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const savedEnv = Object.fromEntries([...ISOLATED_ENV, ...Object.keys(env)].map((k) => [k, process.env[k]]));
  for (const k of ISOLATED_ENV) delete process.env[k];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const capture = (sink: string[]) => (chunk: unknown, ...rest: unknown[]) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
  const outSpy = jest.spyOn(process.stdout, 'write').mockImplementation(capture(stdout) as typeof process.stdout.write);
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation(capture(stderr) as typeof process.stderr.write);
  const savedExit = process.exitCode;
  process.exitCode = undefined;
  let code: number;
  try {
    await main(['node', 'kai', ...args], testProgram((s) => stdout.push(s), (s) => stderr.push(s)));
    code = Number(process.exitCode ?? 0);
  } finally {
    outSpy.mockRestore();
    errSpy.mockRestore();
    process.exitCode = savedExit;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}
