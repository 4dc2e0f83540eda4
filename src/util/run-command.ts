// A short program run for a check (`kai doctor`, an engine's status command): without a shell,
// output capped, and killed (with its process group) when it takes too long.
import { spawn } from 'node:child_process';
import { errorText } from './errors';

export interface CommandResult {
  ok: boolean;
  /** The exit status; null when the program did not start, was killed or timed out. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not succeed: spawn error, timeout or exit status. */
  problem?: string;
}

/** Runs a program without a shell, stdin closed, output capped, killed after `ms`. */
export function runCommand(file: string, args: string[], opts: { ms: number; env: NodeJS.ProcessEnv; cwd?: string }): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    // Its own process group, so a wrapper script's children die with it on timeout.
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ ok: false, code: null, stdout, stderr, problem: `no answer within ${Math.round(opts.ms / 100) / 10} s` });
    }, opts.ms);
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString('utf8')).slice(0, 4096)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(0, 4096)));
    child.on('error', (err) => finish({ ok: false, code: null, stdout, stderr, problem: errorText(err, { firstLine: true, maxChars: 300 }) }));
    child.on('close', (code, signal) =>
      finish(code === 0 ? { ok: true, code, stdout, stderr } : { ok: false, code, stdout, stderr, problem: signal ? `killed by ${signal}` : `exit status ${code}` }),
    );
  });
}
