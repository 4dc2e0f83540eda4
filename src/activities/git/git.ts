// Running git: execFile with an argument list (never a shell), no prompts, bounded output.
import { execFile } from 'node:child_process';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are answers, not failures (`git diff --quiet` exits 1 for "differs"). */
  okCodes?: number[];
  timeoutMs?: number;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        env: { ...(opts.env ?? process.env), GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo', LC_ALL: 'C' },
        maxBuffer: 32 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 5 * 60 * 1000,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : null) : 0;
        if (!err || (code !== null && opts.okCodes?.includes(code))) {
          resolve({ stdout: String(stdout), stderr: String(stderr), code: code ?? 0 });
          return;
        }
        const detail = String(stderr).trim() || err.message;
        reject(new GitError(`git ${args[0]} failed: ${detail}`, args, code, String(stderr)));
      },
    );
  });
}

/** stdout of a git command, trimmed. */
export async function gitOut(cwd: string, args: string[], opts?: GitOptions): Promise<string> {
  return (await git(cwd, args, opts)).stdout.trim();
}

/** True when the command exits 0; false on any failure (used for existence checks). */
export async function gitOk(cwd: string, args: string[], opts?: GitOptions): Promise<boolean> {
  try {
    await git(cwd, args, opts);
    return true;
  } catch {
    return false;
  }
}
