// Gemini CLI (`gemini --output-format stream-json`): the recorded-format stream gives the right
// resume token, plan (write_todos), actions, usage and answer; a run goes through kai's engine
// activity with the documented command line (prompt on stdin) and resumes with --resume.
import { MockActivityEnvironment } from '@temporalio/testing';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import type { EngineEvent } from '../../../src/activities/engine/events';
import { GeminiStreamParser } from '../../../src/activities/engine/gemini';
import type { EngineRunInput, EngineRunResult } from '../../../src/contracts/activities';
import { fixture, makeConfig, recordingSinks, tempDir } from './helpers';

function parse(file: string): EngineEvent[] {
  const parser = new GeminiStreamParser();
  const events = readFileSync(file, 'utf8').split('\n').flatMap((l) => parser.line(l));
  return [...events, ...parser.finish({ exitCode: 0, recorded: true })];
}

describe('GeminiStreamParser', () => {
  it('reads a recorded run: session id, plan from write_todos, actions, answer and stats', () => {
    const events = parse(fixture('gemini', 'basic.jsonl'));
    expect(events[0]).toEqual({ type: 'started', resumeToken: '5f3c2a1b-8d7e-4f60-9a1b-2c3d4e5f6a7b' });
    const plans = events.filter((e) => e.type === 'plan');
    expect(plans).toEqual([
      { type: 'plan', items: [
        { content: 'Read the router', status: 'inProgress' },
        { content: 'Add the JWT middleware', status: 'pending' },
        { content: 'Run the tests', status: 'pending' },
      ] },
      { type: 'plan', items: [
        { content: 'Read the router', status: 'completed' },
        { content: 'Add the JWT middleware', status: 'completed' },
        { content: 'Run the tests', status: 'canceled' },
      ] },
    ]);
    expect(events).toContainEqual({ type: 'thought', text: 'Let me read the router.' });
    expect(events).toContainEqual({ type: 'thought', text: 'Warning: Loop detection: repeated tool call' });
    const done = events.filter((e) => e.type === 'action' && e.phase === 'completed');
    expect(done).toEqual([
      { type: 'action', id: 'read_file-1764497703500-1', kind: 'tool', title: 'read_file src/routes/index.ts', phase: 'completed', ok: true, detail: "import { Router } from 'express';" },
      { type: 'action', id: 'write_file-1764497704000-2', kind: 'file_change', title: 'write_file src/routes/auth.ts', phase: 'completed', ok: true, detail: 'Successfully created and wrote to new file: src/routes/auth.ts.' },
      { type: 'action', id: 'run_shell_command-1764497704500-3', kind: 'command', title: 'npm test', phase: 'completed', ok: false, detail: 'Command exited with code 1: 1 failing' },
    ]);
    const completed = events.at(-1);
    expect(completed).toMatchObject({
      type: 'completed',
      ok: true,
      answer: 'I added the JWT middleware in src/routes/auth.ts; one test still fails.',
      resumeToken: '5f3c2a1b-8d7e-4f60-9a1b-2c3d4e5f6a7b',
      usage: { total_tokens: 5120, input_tokens: 4800, output_tokens: 320 },
    });
    expect(events.filter((e) => e.type === 'completed')).toHaveLength(1);
  });

  it('a result with status error is a failed run that says why', () => {
    const events = parse(fixture('gemini', 'api-error.jsonl'));
    expect(events).toContainEqual({ type: 'thought', text: 'Error: [API Error: 403 PERMISSION_DENIED]' });
    expect(events.at(-1)).toMatchObject({ type: 'completed', ok: false, error: 'API key not valid. Please pass a valid API key.', resumeToken: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' });
  });

  it('the real Gemini CLI 0.61.0 without an auth method (no stdout, exit 41) ends as a clear failure', () => {
    const parser = new GeminiStreamParser();
    const end = parser.finish({ exitCode: 41, stderrTail: 'Please set an Auth method in your ~/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA' });
    expect(end).toEqual([expect.objectContaining({ type: 'completed', ok: false, error: expect.stringMatching(/exited with code 41.*Please set an Auth method/) })]);
  });

  it('a stream that ends without a result is a failure carrying stderr', () => {
    const parser = new GeminiStreamParser();
    parser.line('{"type":"init","session_id":"5f3c2a1b-8d7e-4f60-9a1b-2c3d4e5f6a7b","model":"gemini-2.5-pro"}');
    expect(parser.finish({ exitCode: 42, stderrTail: 'Invalid session identifier' }).at(-1)).toMatchObject({ ok: false, error: expect.stringContaining('exited with code 42') });
  });
});

describe('Gemini CLI through the engine activity', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('kai-gemini-')));
  afterEach(() => tmp.cleanup());

  function fakeGemini(): { bin: string; records: () => Array<{ argv: string[]; stdin: string }> } {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const bin = path.join(tmp.dir, 'gemini');
    writeFileSync(
      bin,
      `#!/usr/bin/env node
const fs = require('fs');
const stdin = fs.readFileSync(0, 'utf8');
fs.appendFileSync(${JSON.stringify(rec)}, JSON.stringify({ argv: process.argv.slice(2), stdin }) + '\\n');
process.stdout.write(fs.readFileSync(${JSON.stringify(fixture('gemini', 'basic.jsonl'))}));
`,
    );
    chmodSync(bin, 0o755);
    return { bin, records: () => readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) };
  }

  it('runs gemini headless with the prompt on stdin, posts the plan and resumes with --resume', async () => {
    const gemini = fakeGemini();
    const sinks = recordingSinks();
    const acts = createEngineActivities({ config: makeConfig({ engines: { gemini: { binary: gemini.bin } } }), progress: sinks.factory });
    const env = new MockActivityEnvironment();
    const input = (over: Partial<EngineRunInput>): EngineRunInput => ({ engine: 'gemini', prompt: 'Add JWT authentication', cwd: tmp.dir, agentSessionId: 'as-g', issueId: 'i-g', issueIdentifier: 'ENG-13', ...over });
    const first = (await env.run(acts.engineRun, input({ model: 'gemini-2.5-pro' }))) as EngineRunResult;
    expect(first).toMatchObject({ ok: true, resumeToken: '5f3c2a1b-8d7e-4f60-9a1b-2c3d4e5f6a7b', planPublished: true });
    await env.run(acts.engineRun, input({ prompt: 'Fix the failing test', resumeToken: first.resumeToken }));
    const [r1, r2] = gemini.records();
    expect(r1).toEqual({ argv: ['--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust', '--model', 'gemini-2.5-pro'], stdin: 'Add JWT authentication' });
    expect(r2).toEqual({ argv: ['--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust', '--resume', '5f3c2a1b-8d7e-4f60-9a1b-2c3d4e5f6a7b'], stdin: 'Fix the failing test' });
  });
});
