import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configSchema, type KaiConfig } from '../../../src/config/schema';
import type { EngineEvent, ProgressSink, ProgressSinkFactory } from '../../../src/activities/engine/events';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'engines');
export const FAKE_BIN = path.join(FIXTURES, 'bin');

export function fixture(engine: string, name: string): string {
  return path.join(FIXTURES, engine, name);
}

export function makeConfig(overrides: Record<string, unknown> = {}): KaiConfig {
  return configSchema.parse(overrides);
}

export function tempDir(prefix = 'kai-engine-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A progress sink that keeps what it was given, per run. */
export function recordingSinks(): {
  factory: ProgressSinkFactory;
  events: EngineEvent[];
  closed: () => number;
  discarded: () => number;
  runs: Array<{ agentSessionId: string; issueId: string }>;
} {
  const events: EngineEvent[] = [];
  const runs: Array<{ agentSessionId: string; issueId: string }> = [];
  let closed = 0;
  let discarded = 0;
  const factory: ProgressSinkFactory = (run) => {
    runs.push(run);
    const sink: ProgressSink = {
      emit: (e) => events.push(e),
      close: async () => {
        closed++;
      },
      discard: async () => {
        discarded++;
      },
    };
    return sink;
  };
  return { factory, events, closed: () => closed, discarded: () => discarded, runs };
}

/** Whether a process is alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export const engineEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
  KAI_ENGINE_PASS_ENV: 'FAKE_ENGINE_*', // the fixture engines' switches (engines get an allowlisted environment)
  ...extra,
});

export async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
