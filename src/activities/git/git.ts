// Running git: execFile with an argument list (never a shell), no prompts, bounded output, an
// environment without kai's secrets, and configuration pinned at the command-line level (through
// GIT_CONFIG_COUNT, so values never show in the process list) that wins over anything an engine
// could write into a repository's or worktree's config: no hooks, no fsmonitor, no signing
// program, no ext:: transport.
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

export type ConfigPins = Array<[key: string, value: string]>;

export interface GitOptions {
  /** Extra variables for this one command (on top of the safe base environment). */
  env?: NodeJS.ProcessEnv;
  /** Configuration for this one command, after the safe pins (a later value wins). */
  config?: ConfigPins;
  /** Exit codes that are answers, not failures (`git diff --quiet` exits 1 for "differs"). */
  okCodes?: number[];
  timeoutMs?: number;
  /** Kills the command when aborted (activity cancellation). */
  signal?: AbortSignal;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Pinned on every git command kai runs: nothing planted in a repository runs code through them. */
export const SAFE_PINS: ConfigPins = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['commit.gpgSign', 'false'],
  ['tag.gpgSign', 'false'],
  ['protocol.ext.allow', 'never'],
];

// What git needs from the worker's environment; everything else (tokens, database URLs, API
// keys) stays out, so a hook or filter that does run never sees a secret.
const ENV_ALLOW = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'TZ', 'TMPDIR', 'TEMP', 'TMP',
  'XDG_CONFIG_HOME', 'SSH_AUTH_SOCK', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'GIT_SSH_COMMAND', 'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_SYSTEM',
  'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_EXEC_PATH', 'GIT_TEMPLATE_DIR',
]);

export function gitBaseEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && (ENV_ALLOW.has(k) || k.startsWith('LC_'))) env[k] = v;
  return env;
}

function configEnv(pins: ConfigPins): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_CONFIG_COUNT: String(pins.length) };
  pins.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

export function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        env: {
          ...gitBaseEnv(),
          ...opts.env,
          ...configEnv([...SAFE_PINS, ...(opts.config ?? [])]),
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: 'echo',
          SSH_ASKPASS: 'echo',
          LC_ALL: 'C',
        },
        maxBuffer: 32 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 5 * 60 * 1000,
        windowsHide: true,
        signal: opts.signal,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : null) : 0;
        if (!err || (code !== null && opts.okCodes?.includes(code))) {
          resolve({ stdout: String(stdout), stderr: String(stderr), code: code ?? 0 });
          return;
        }
        if (opts.signal?.aborted) {
          reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error(`git ${args[0]} was cancelled`));
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
