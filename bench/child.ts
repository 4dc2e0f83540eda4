// Starts a bench worker child (its TypeScript source, through the project's swc hook, as the
// whole benchmark runs) and watches its RSS.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KaiConfig } from '../src/config/schema';
import type { BenchContext } from './context';
import type { WorkerChildMessage, WorkerChildSpec } from './worker-child';
import type { BenchWorld } from './world';

export interface WorkerChild {
  pid: number;
  /** Latest RSS the worker reported, in bytes. */
  rss(): number;
  /** Highest RSS reported since the last resetPeak(). */
  peak(): number;
  resetPeak(): void;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts a worker child on the world's configuration, or on `config` (a variant of it) named `label`. */
export async function startWorkerChild(ctx: BenchContext, world: BenchWorld, opts: { config?: KaiConfig; label?: string } = {}): Promise<WorkerChild> {
  const configPath = join(ctx.root, `${world.taskQueue}${opts.label ? `-${opts.label}` : ''}.config.json`);
  writeFileSync(configPath, JSON.stringify(opts.config ?? world.config), { mode: 0o600 });
  const spec: WorkerChildSpec = { configPath, bundlePath: ctx.bundlePath };
  const child: ChildProcess = fork(join(__dirname, 'worker-child.ts'), [], {
    execArgv: ['-r', resolve(__dirname, '..', 'scripts', 'ts-register.js')],
    // A labelled child is a worker of its own (its own task queues); unlabelled, it takes the host's name.
    env: { ...process.env, KAI_BENCH_WORKER: JSON.stringify(spec), ...(opts.label ? { KAI_WORKER_NAME: opts.label } : {}) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let last = 0;
  let peak = 0;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((ready, fail) => {
    child.on('message', (m: WorkerChildMessage) => {
      if (m.type === 'ready') ready();
      if (m.type === 'rss') {
        last = m.rss;
        peak = Math.max(peak, m.rss);
      }
    });
    child.once('exit', (code) => fail(new Error(`bench: the worker child exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid!,
    rss: () => last,
    peak: () => peak,
    resetPeak: () => void (peak = last),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}
