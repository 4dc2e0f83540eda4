// pi (`pi --mode json`): the recorded-format stream gives the right resume token, actions,
// thoughts, usage and answer; a run goes through kai's engine activity with the documented
// command line (prompt on stdin) and resumes with --session.
import { MockActivityEnvironment } from '@temporalio/testing';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import type { EngineEvent } from '../../../src/activities/engine/events';
import { PiStreamParser } from '../../../src/activities/engine/pi';
import type { EngineRunInput, EngineRunResult } from '../../../src/contracts/activities';
import { fixture, makeConfig, recordingSinks, tempDir } from './helpers';

function parse(file: string): EngineEvent[] {
  const parser = new PiStreamParser();
  const events = readFileSync(file, 'utf8').split('\n').flatMap((l) => parser.line(l));
  return [...events, ...parser.finish({ exitCode: 0, recorded: true })];
}

describe('PiStreamParser', () => {
  it('reads a recorded run: session id, thinking, tool calls, answer and summed usage', () => {
    const events = parse(fixture('pi', 'basic.jsonl'));
    expect(events[0]).toEqual({ type: 'started', resumeToken: '7b0f9c52-3e1a-4d8b-9f26-5c4e2a1b0d93' });
    expect(events).toContainEqual({ type: 'thought', text: 'I should look at the router first.' });
    expect(events).toContainEqual({ type: 'thought', text: 'Let me read the router.' });
    const actions = events.filter((e) => e.type === 'action');
    expect(actions).toEqual([
      { type: 'action', id: 'toolu_01', kind: 'command', title: 'cat src/routes/index.ts', phase: 'started' },
      { type: 'action', id: 'toolu_01', kind: 'command', title: 'cat src/routes/index.ts', phase: 'completed', ok: true, detail: "import { Router } from 'express';\nexport const router = Router();" },
      { type: 'action', id: 'toolu_02', kind: 'file_change', title: 'write src/routes/auth.ts', phase: 'started' },
      { type: 'action', id: 'toolu_02', kind: 'file_change', title: 'write src/routes/auth.ts', phase: 'completed', ok: true, detail: 'Successfully wrote 33 bytes to src/routes/auth.ts' },
    ]);
    const completed = events.at(-1);
    expect(completed).toMatchObject({ type: 'completed', ok: true, answer: 'I added the JWT middleware in src/routes/auth.ts.', resumeToken: '7b0f9c52-3e1a-4d8b-9f26-5c4e2a1b0d93' });
    expect((completed as { usage: Record<string, number> }).usage).toMatchObject({ input: 4400, output: 240, cacheRead: 3000, totalTokens: 7640 });
    expect((completed as { usage: Record<string, number> }).usage.costTotal).toBeCloseTo(0.0177, 6);
    expect(events.filter((e) => e.type === 'completed')).toHaveLength(1);
  });

  it('an API failure after pi gave up retrying is a failed run that says why, with the retries visible', () => {
    const events = parse(fixture('pi', 'api-error.jsonl'));
    expect(events).toContainEqual({ type: 'thought', text: 'The model API failed: 401 invalid x-api-key; retrying (attempt 1 of 3).' });
    expect(events.at(-1)).toMatchObject({ type: 'completed', ok: false, error: '401 invalid x-api-key', resumeToken: 'c41d2e8a-6b7f-4a90-8e15-3d2c1b0a9f87' });
  });

  it('the real pi 0.73.1 without a credential (its recorded stdout, exit 1) ends as a clear failure', () => {
    const parser = new PiStreamParser();
    const events = readFileSync(fixture('pi', 'no-credential.jsonl'), 'utf8').split('\n').flatMap((l) => parser.line(l));
    expect(events).toEqual([{ type: 'started', resumeToken: '01a23515-cfa2-76f0-b4c1-44c046974b47' }]);
    const end = parser.finish({ exitCode: 1, stderrTail: 'No API key found for the selected model.\n\nUse /login to log into a provider via OAuth or API key.' });
    expect(end.at(-1)).toMatchObject({ type: 'completed', ok: false, error: expect.stringContaining('No API key found for the selected model') });
  });

  it('a stream that ends without agent_end is a failure', () => {
    const parser = new PiStreamParser();
    parser.line('{"type":"session","version":3,"id":"7b0f9c52-3e1a-4d8b-9f26-5c4e2a1b0d93"}');
    expect(parser.finish({ exitCode: 1, stderrTail: "No session found matching 'x'" }).at(-1)).toMatchObject({ ok: false, error: expect.stringContaining('No session found') });
  });
});

describe('pi through the engine activity', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('kai-pi-')));
  afterEach(() => tmp.cleanup());

  /** A stand-in `pi` that records its argv and stdin and plays the recorded stream. */
  function fakePi(): { bin: string; records: () => Array<{ argv: string[]; stdin: string }> } {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const bin = path.join(tmp.dir, 'pi');
    writeFileSync(
      bin,
      `#!/usr/bin/env node
const fs = require('fs');
const stdin = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(rec)}, JSON.stringify({ argv: process.argv.slice(2), stdin }) + '\\n');
process.stdout.write(fs.readFileSync(${JSON.stringify(fixture('pi', 'basic.jsonl'))}));
`,
    );
    chmodSync(bin, 0o755);
    return { bin, records: () => readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) };
  }

  const input = (over: Partial<EngineRunInput>): EngineRunInput => ({
    engine: 'pi',
    prompt: '- Add JWT authentication',
    cwd: tmp.dir,
    agentSessionId: 'as-pi',
    issueId: 'issue-pi',
    issueIdentifier: 'ENG-13',
    ...over,
  });

  it('runs `pi --mode json` with the prompt on stdin and resumes the session with --session', async () => {
    const pi = fakePi();
    const sinks = recordingSinks();
    const acts = createEngineActivities({ config: makeConfig({ engines: { pi: { binary: pi.bin } } }), progress: sinks.factory });
    const env = new MockActivityEnvironment();
    const first = (await env.run(acts.engineRun, input({ model: 'anthropic/claude-sonnet-4-5', reasoning: 'high' }))) as EngineRunResult;
    expect(first).toMatchObject({ ok: true, answer: 'I added the JWT middleware in src/routes/auth.ts.', resumeToken: '7b0f9c52-3e1a-4d8b-9f26-5c4e2a1b0d93' });
    await env.run(acts.engineRun, input({ prompt: 'And a refresh token', resumeToken: first.resumeToken }));
    const [r1, r2] = pi.records();
    expect(r1).toEqual({ argv: ['--mode', 'json', '--model', 'anthropic/claude-sonnet-4-5', '--thinking', 'high'], stdin: '- Add JWT authentication' });
    expect(r2).toEqual({ argv: ['--mode', 'json', '--session', '7b0f9c52-3e1a-4d8b-9f26-5c4e2a1b0d93'], stdin: 'And a refresh token' });
    expect(sinks.events.some((e) => e.type === 'action' && e.kind === 'file_change')).toBe(true);
  });

  it('refuses a reasoning level pi does not have', async () => {
    const acts = createEngineActivities({ config: makeConfig({ engines: { pi: { binary: fakePi().bin } } }), progress: recordingSinks().factory });
    await expect(new MockActivityEnvironment().run(acts.engineRun, input({ reasoning: 'ultra' }))).rejects.toThrow(/pi reasoning must be one of off, minimal, low, medium, high, xhigh/);
  });
});
