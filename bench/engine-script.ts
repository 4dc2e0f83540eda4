// The benchmark's engine: a small Node program run by kai's `script` engine that prints kai's
// normalized EngineEvent JSON lines. The issue title says how many events and how far apart
// ("events=200 gap=20"), so one worker can run sessions of different sizes. It exits when the
// worker that started it dies, so a SIGKILLed worker leaves no engine behind. Its answer names
// the worker it ran on when the worker's configuration sets BENCH_WORKER in its engine env.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PROGRAM = String.raw`
const prompt = process.env.KAI_PROMPT || '';
const events = Number((/events=(\d+)/.exec(prompt) || [])[1] || 20);
const gapMs = Number((/gap=(\d+)/.exec(prompt) || [])[1] || 0);
const fs = require('node:fs');
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  try { process.kill(parent, 0); } catch { process.exit(1); }
  if (process.ppid !== parent) process.exit(1);
}, 200);
const steps = ['Read the issue', 'Change the code', 'Run the tests'];
const plan = (done) => ({ type: 'plan', items: steps.map((content, i) => ({ content, status: i < done ? 'completed' : i === done ? 'inProgress' : 'pending' })) });
const out = (e) => process.stdout.write(JSON.stringify(e) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  out({ type: 'started', resumeToken: 'bench-' + (process.env.KAI_ISSUE_IDENTIFIER || 'x') });
  for (let i = 0; i < events; i++) {
    const k = i % 10;
    if (k === 0) out(plan(Math.min(steps.length - 1, Math.floor((i / Math.max(1, events)) * steps.length))));
    else if (k % 3 === 1) out({ type: 'thought', text: 'Thinking about step ' + i });
    else if (k % 3 === 2) out({ type: 'action', id: 'a' + i, kind: 'command', title: 'run step ' + i, phase: 'started' });
    else out({ type: 'action', id: 'a' + (i - 1), kind: 'command', title: 'run step ' + (i - 1), phase: 'completed', ok: true, detail: 'ok' });
    if (gapMs > 0) await sleep(gapMs);
  }
  fs.writeFileSync('BENCH.md', 'Changed by the kai benchmark engine (' + events + ' events).\n');
  clearInterval(orphanWatch);
  const where = process.env.BENCH_WORKER ? ' Ran on worker=' + process.env.BENCH_WORKER + '.' : '';
  out({ type: 'completed', ok: true, answer: 'Emitted ' + events + ' events and changed BENCH.md.' + where });
})();
`;

/** Writes the engine program under `dir` and returns the `[engines.script] command` for it. */
export function writeBenchEngine(dir: string): string {
  const file = join(dir, 'bench-engine.js');
  writeFileSync(file, PROGRAM);
  return `${JSON.stringify(process.execPath)} ${JSON.stringify(file)}`;
}

/** An issue title the bench engine reads its event count and spacing from. */
export function benchTitle(label: string, events: number, gapMs: number): string {
  return `${label} events=${events} gap=${gapMs}`;
}

/** The worker a bench engine's answer says it ran on (see BENCH_WORKER above). */
export function benchWorkerOf(answer: string): string | undefined {
  return /Ran on worker=(\S+?)\./.exec(answer)?.[1];
}
