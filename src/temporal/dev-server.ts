// Finds the Temporal CLI and runs `temporal server start-dev` for `kai dev`, the demo and tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_TYPES } from '../names';
import { freePort } from './ports';
import { connectTracked } from './calls';
import { sleep } from '../util';

export interface CliLocation {
  path: string;
  /** How it was found, for the user: env, PATH or the project's .tools venv. */
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | '.tools';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** TEMPORAL_CLI_PATH, then `temporal` on PATH, then `.tools/bin/temporal` under the project. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env, projectRoot = defaultProjectRoot()): CliLocation | undefined {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file. Point it at the Temporal CLI binary or unset it.`);
    return { path: fromEnv, source: 'TEMPORAL_CLI_PATH' };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'temporal');
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  const local = join(projectRoot, '.tools', 'bin', 'temporal');
  if (isExecutable(local)) return { path: local, source: '.tools' };
  return undefined;
}

export function defaultProjectRoot(): string {
  // src/temporal or dist/temporal -> project root
  return resolve(__dirname, '..', '..');
}

export interface DevServerOptions {
  cliPath: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  /** Persist to this SQLite file; in memory when unset. */
  dbFile?: string;
  namespace?: string;
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Called with each line the server prints (for logs). */
  onOutput?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The CLI's process, when kai started it itself (not the SDK's download). */
  process?: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(ip));
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort(ip)));
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'warn'];
  args.push('--http-port', String(await freePort(ip)), '--metrics-port', String(await freePort(ip)));
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    if (opts.onOutput) for (const line of text.split('\n')) if (line.trim()) opts.onOutput(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const address = `${ip}:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let ready = false;
  while (Date.now() < deadline) {
    const done = await Promise.race([exited.then(() => true), sleep(250).then(() => false)]);
    if (done) throw new Error(`The Temporal dev server exited during start-up (${opts.cliPath} ${args.join(' ')}):\n${output}`);
    try {
      const probe = await connectTracked({ address, connectTimeout: 1000 });
      try {
        await probe.connection.workflowService.getSystemInfo({});
        ready = true;
      } finally {
        await probe.close();
      }
      break;
    } catch {
      // not up yet
    }
  }
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`The Temporal dev server did not answer on ${address} in time:\n${output}`);
  }
  return {
    address,
    uiUrl: uiPort ? `http://${ip}:${uiPort}` : undefined,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The fallback when no CLI is installed: the Temporal SDK downloads the CLI (needs internet)
 *  and runs the same dev server. */
export async function startDevServerWithSdkDownload(opts: Omit<DevServerOptions, 'cliPath' | 'onOutput' | 'startTimeoutMs'>): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const ip = opts.ip ?? '127.0.0.1';
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort(ip)));
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip,
      port: opts.port,
      ui: !opts.headless,
      uiPort,
      dbFilename: opts.dbFile,
      namespace: opts.namespace,
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: Object.entries(opts.dynamicConfig ?? {}).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]),
    },
  });
  return {
    address: env.address,
    uiUrl: uiPort ? `http://${ip}:${uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
