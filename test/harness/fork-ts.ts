// Starts a TypeScript entry point in a child process and resolves once it says it is ready
// (its first IPC message): the crash tests' workers run this way so they can be SIGKILLed.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export function forkReady(entry: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'ts-child.js'), [entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${entry} exited (${code}) before it was ready: ${stderr}`)));
  });
}
