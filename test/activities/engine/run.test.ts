import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { readFileSync, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import type { EngineRunInput, EngineRunResult } from '../../../src/contracts/activities';
import { engineEnv, fixture, makeConfig, processAlive, recordingSinks, tempDir, waitFor } from './helpers';

const base = (cwd: string, over: Partial<EngineRunInput> = {}): EngineRunInput => ({
  engine: 'claude',
  prompt: 'Add JWT authentication',
  cwd,
  agentSessionId: 'as-1',
  issueId: 'issue-1',
  issueIdentifier: 'AV-123',
  ...over,
});

function records(file: string): Array<{ engine: string; argv: string[]; stdin: string; cwd: string; tasks?: string; todos?: string }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Runs engineRun inside a mock activity context (typed: MockActivityEnvironment.run infers unknown). */
function run(env: MockActivityEnvironment, fn: (i: EngineRunInput) => Promise<EngineRunResult>, input: EngineRunInput): Promise<EngineRunResult> {
  return env.run(fn, input) as Promise<EngineRunResult>;
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('engineRun with fake engine CLIs', () => {
  it('runs claude with the documented invocation, streams events to the sink and resumes on a follow-up', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const sinks = recordingSinks();
    const acts = createEngineActivities({ config: makeConfig(), progress: sinks.factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const env = new MockActivityEnvironment();
    const first = await run(env, acts.engineRun, base(tmp.dir, { model: 'opus', reasoning: 'high' }));
    expect(first).toMatchObject({
      ok: true,
      answer: 'I added the JWT middleware in src/routes/auth.ts and wired it into the router.',
      resumeToken: '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21',
    });
    expect(first.usage).toMatchObject({ total_cost_usd: 0.0841 });
    expect(sinks.runs).toEqual([{ agentSessionId: 'as-1', issueId: 'issue-1' }]);
    expect(sinks.events[0]).toEqual({ type: 'started', resumeToken: '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21' });
    expect(sinks.events.at(-1)).toMatchObject({ type: 'completed', ok: true });
    expect(sinks.closed()).toBe(1);

    const followUp = await run(env, acts.engineRun, base(tmp.dir, { prompt: 'Also add a refresh token', resumeToken: first.resumeToken }));
    expect(followUp.ok).toBe(true);
    const [r1, r2] = records(rec);
    const tools = 'Bash,Read,Edit,MultiEdit,Write,NotebookEdit,Glob,Grep,TodoWrite,TaskCreate,TaskUpdate,TaskGet,TaskList';
    expect(r1!.argv).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose', '--model', 'opus', '--effort', 'high',
      '--permission-mode', 'acceptEdits', '--allowedTools', tools,
    ]);
    expect(r1!.stdin).toBe('Add JWT authentication');
    expect(r1!.tasks).toBe('1');
    expect(r1!.todos).toBe('1');
    expect(r1!.cwd).toBe(tmp.dir);
    expect(r2!.argv).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose',
      '--resume', '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21',
      '--permission-mode', 'acceptEdits', '--allowedTools', tools,
    ]);
    expect(r2!.stdin).toBe('Also add a refresh token');
  });

  it('gives codex its prompt on stdin and resumes its thread', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const sinks = recordingSinks();
    const acts = createEngineActivities({ config: makeConfig(), progress: sinks.factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const env = new MockActivityEnvironment();
    const first = await run(env, acts.engineRun, base(tmp.dir, { engine: 'codex', model: 'gpt-5-codex', reasoning: 'medium' }));
    expect(first).toMatchObject({ ok: true, resumeToken: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
    expect(first.answer).toMatch(/^Added JWT middleware/);
    await run(env, acts.engineRun, base(tmp.dir, { engine: 'codex', prompt: 'next', resumeToken: first.resumeToken }));
    const [r1, r2] = records(rec);
    expect(r1!.argv).toEqual([
      'exec', '--sandbox', 'workspace-write', '--json', '--skip-git-repo-check', '--color=never',
      '-c', 'tools.update_plan.enabled=true', '-m', 'gpt-5-codex', '-c', 'model_reasoning_effort=medium', '-',
    ]);
    expect(r1!.stdin).toBe('Add JWT authentication');
    expect(r2!.argv).toEqual([
      'exec', '--sandbox', 'workspace-write', '--json', '--skip-git-repo-check', '--color=never',
      '-c', 'tools.update_plan.enabled=true', 'resume', '0199a213-81c0-7800-8aa1-bbab2a035a53', '-',
    ]);
    expect(r2!.stdin).toBe('next');
  });

  it('runs opencode with its session on a follow-up', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const env = new MockActivityEnvironment();
    const first = await run(env, acts.engineRun, base(tmp.dir, { engine: 'opencode', model: 'anthropic/claude-sonnet-4-5' }));
    expect(first).toMatchObject({ ok: true, answer: 'Added the JWT middleware to the auth routes.', resumeToken: 'ses_494719016ffe85dkDMj0FPRbHK' });
    const quoted = '-v "please" keep \'these\' quotes';
    await run(env, acts.engineRun, base(tmp.dir, { engine: 'opencode', model: 'anthropic/claude-sonnet-4-5', prompt: quoted, resumeToken: first.resumeToken, reasoning: 'high' }));
    const [r1, r2] = records(rec);
    expect(r1!.argv).toEqual(['run', '--format', 'json', '--model', 'anthropic/claude-sonnet-4-5', '--auto']);
    expect(r1!.stdin).toBe('Add JWT authentication');
    expect(r2!.argv).toEqual(['run', '--format', 'json', '--session', 'ses_494719016ffe85dkDMj0FPRbHK', '--model', 'anthropic/claude-sonnet-4-5', '--variant', 'high', '--auto']);
    expect(r2!.stdin).toBe(quoted); // verbatim: no quoting, no option parsing
  });

  it('refuses to run opencode without an explicit provider/model instead of using a hosted default', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    for (const model of [undefined, 'claude-sonnet-4-5']) {
      const err = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'opencode', model })).catch((e: unknown) => e);
      expect((err as ApplicationFailure).type).toBe('InvalidInput');
      expect((err as Error).message).toMatch(/OpenCode needs an explicit provider\/model.*\[engines\.opencode\] model/);
    }
    expect(records(rec)).toEqual([]); // never started
  });

  it('takes every engine option from config: sandbox, permission mode, allowed tools, auto-approve', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const config = makeConfig({
      engines: {
        codex: { sandbox: 'danger-full-access' },
        claude: { permission_mode: 'dontAsk', allowed_tools: ['Read', 'Bash(npm test:*)'], env: { CLAUDE_CODE_ENABLE_TASKS: '0' } },
        opencode: { auto_approve: false, model: 'local/qwen' },
      },
    });
    const acts = createEngineActivities({ config, progress: recordingSinks().factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const env = new MockActivityEnvironment();
    await run(env, acts.engineRun, base(tmp.dir, { engine: 'codex' }));
    await run(env, acts.engineRun, base(tmp.dir, { engine: 'claude', model: 'sonnet[1m]' }));
    await run(env, acts.engineRun, base(tmp.dir, { engine: 'opencode', model: 'local/qwen' }));
    const [codex, claude, opencode] = records(rec);
    expect(codex!.argv.slice(0, 3)).toEqual(['exec', '--sandbox', 'danger-full-access']);
    expect(claude!.argv).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose', '--model', 'sonnet[1m]',
      '--permission-mode', 'dontAsk', '--allowedTools', 'Read,Bash(npm test:*)',
    ]);
    expect(claude!.tasks).toBe('0');
    expect(opencode!.argv).toEqual(['run', '--format', 'json', '--model', 'local/qwen']);
  });

  it('passes a 200 KiB prompt on stdin to every engine (no spawn E2BIG)', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const prompt = `Refactor this:\n${'x'.repeat(200 * 1024)}`;
    const env = new MockActivityEnvironment();
    for (const engine of ['claude', 'codex', 'opencode']) {
      const result = await run(env, acts.engineRun, base(tmp.dir, { engine, prompt, model: engine === 'opencode' ? 'p/m' : undefined }));
      expect(result.ok).toBe(true);
    }
    const recs = records(rec);
    expect(recs.map((r) => r.engine)).toEqual(['claude', 'codex', 'opencode']);
    for (const r of recs) {
      expect(r.stdin).toBe(prompt);
      expect(r.argv.join(' ').length).toBeLessThan(1000);
    }
  });

  it('turns an exit without a completion into a failed result carrying the stderr tail', async () => {
    const sinks = recordingSinks();
    const acts = createEngineActivities({ config: makeConfig(), progress: sinks.factory, env: engineEnv({ FAKE_ENGINE_MODE: 'exit-early', FAKE_ENGINE_HANG_AFTER: '2' }) });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir));
    expect(result.ok).toBe(false);
    expect(result.resumeToken).toBe('3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21');
    expect(result.error).toMatch(/exited with code 3 without a final result/);
    expect(result.error).toContain('the model provider refused the request (401)');
    expect(sinks.events.at(-1)).toMatchObject({ type: 'completed', ok: false });
  });

  it('refuses an engine whose binary is not installed, naming the engines that exist', async () => {
    const acts = createEngineActivities({
      config: makeConfig({ engines: { codex: { binary: 'kai-no-such-codex' } } }),
      progress: recordingSinks().factory,
      env: engineEnv(),
    });
    const err = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'codex' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('EngineUnavailable');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toContain('kai-no-such-codex');
    expect((err as Error).message).toMatch(/Engines installed here: claude, opencode, script/);
    const unknown = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'aider' })).catch((e: unknown) => e);
    expect((unknown as ApplicationFailure).type).toBe('EngineUnavailable');
    expect((unknown as Error).message).toContain('claude, codex, opencode, pi, gemini, script');
  });

  it('reports a missing worktree as such, not as an engine that is not installed', async () => {
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv() });
    const missing = path.join(tmp.dir, 'gone');
    const err = await run(new MockActivityEnvironment(), acts.engineRun, base(missing, { engine: 'codex' })).catch((e: unknown) => e);
    expect((err as ApplicationFailure).type).toBe('EngineFailed');
    expect((err as Error).message).toContain(`The working tree ${missing} does not exist`);
    expect((err as Error).message).not.toMatch(/not available|not installed/);
  });

  it('refuses a model name that could be read as an option', async () => {
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv() });
    const err = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { model: '--dangerously-skip-permissions' })).catch((e: unknown) => e);
    expect((err as ApplicationFailure).type).toBe('InvalidInput');
  });

  it('heartbeats typed details while the engine streams', async () => {
    const acts = createEngineActivities({
      config: makeConfig(),
      progress: recordingSinks().factory,
      env: engineEnv({ FAKE_ENGINE_DELAY_MS: '40' }),
      heartbeatIntervalMs: 50,
    });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await run(env, acts.engineRun, base(tmp.dir));
    expect(beats.length).toBeGreaterThan(3);
    expect(beats.at(-1)).toMatchObject({ engine: 'claude', resumeToken: '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21' });
    expect((beats.at(-1) as { events: number }).events).toBeGreaterThan(5);
    expect(typeof (beats.at(-1) as { pid: number }).pid).toBe('number');
  });

  it('resumes the conversation a crashed attempt had started, from its heartbeat details', async () => {
    const rec = path.join(tmp.dir, 'rec.jsonl');
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env: engineEnv({ FAKE_ENGINE_RECORD: rec }) });
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { engine: 'claude', events: 4, startedAt: 1, resumeToken: 'prev-session' } });
    await run(env, acts.engineRun, base(tmp.dir));
    expect(records(rec)[0]!.argv).toEqual(expect.arrayContaining(['--resume', 'prev-session']));
  });
});

describe('stopping an engine', () => {
  it('cancellation terminates the whole process group, SIGKILL after the grace period, and leaves no orphan', async () => {
    const pidfile = path.join(tmp.dir, 'pids.json');
    const touch = path.join(tmp.dir, 'touched');
    const sinks = recordingSinks();
    const acts = createEngineActivities({
      config: makeConfig(),
      progress: sinks.factory,
      killGraceMs: 300,
      heartbeatIntervalMs: 50,
      env: engineEnv({ FAKE_ENGINE_MODE: 'hang-ignore-term', FAKE_ENGINE_PIDFILE: pidfile, FAKE_ENGINE_TOUCH: touch }),
    });
    const env = new MockActivityEnvironment();
    const running = run(env, acts.engineRun, base(tmp.dir)).catch((e: unknown) => e);
    await waitFor(() => existsSync(pidfile) && existsSync(touch));
    const pids = JSON.parse(readFileSync(pidfile, 'utf8')) as { pid: number; child: number };
    expect(processAlive(pids.pid)).toBe(true);
    expect(processAlive(pids.child)).toBe(true);
    env.cancel();
    const err = await running;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(processAlive(pids.pid)).toBe(false);
    expect(processAlive(pids.child)).toBe(false);
    // nothing keeps writing to the worktree
    const size = statSync(touch).size;
    await new Promise((r) => setTimeout(r, 200));
    expect(statSync(touch).size).toBe(size);
    expect(sinks.events.some((e) => e.type === 'completed')).toBe(false);
    // a stopped run's progress is dropped, not flushed (Linear's Stop: nothing after it)
    expect(sinks.discarded()).toBeGreaterThanOrEqual(1);
    expect(sinks.closed()).toBe(0);
  });

  it('an engine that honours SIGTERM stops at once', async () => {
    const pidfile = path.join(tmp.dir, 'pids.json');
    const acts = createEngineActivities({
      config: makeConfig(),
      progress: recordingSinks().factory,
      killGraceMs: 5000,
      env: engineEnv({ FAKE_ENGINE_MODE: 'hang', FAKE_ENGINE_PIDFILE: pidfile }),
    });
    const env = new MockActivityEnvironment();
    const running = run(env, acts.engineRun, base(tmp.dir)).catch((e: unknown) => e);
    await waitFor(() => existsSync(pidfile));
    const pids = JSON.parse(readFileSync(pidfile, 'utf8')) as { pid: number; child: number };
    env.cancel();
    expect(await running).toBeInstanceOf(CancelledFailure);
    expect(processAlive(pids.pid)).toBe(false);
    expect(processAlive(pids.child)).toBe(false); // the grandchild ignored SIGTERM: SIGKILL reached it
  });

  it('stops an engine that passes its wall-clock cap and returns a failed result with the resume token', async () => {
    const pidfile = path.join(tmp.dir, 'pids.json');
    const sinks = recordingSinks();
    const acts = createEngineActivities({
      config: makeConfig({ engines: { claude: { timeout_s: 3 } } }),
      progress: sinks.factory,
      killGraceMs: 200,
      env: engineEnv({ FAKE_ENGINE_MODE: 'hang-ignore-term', FAKE_ENGINE_PIDFILE: pidfile }),
    });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/longer than its 3s limit/);
    expect(result.resumeToken).toBe('3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21');
    const pids = JSON.parse(readFileSync(pidfile, 'utf8')) as { pid: number; child: number };
    expect(processAlive(pids.pid)).toBe(false);
    expect(processAlive(pids.child)).toBe(false);
    expect(sinks.events.at(-1)).toMatchObject({ type: 'completed', ok: false });
  });
});

describe('the script engine', () => {
  it('runs the configured command in the worktree and emits the same events', async () => {
    const sinks = recordingSinks();
    const command = `echo '{"type":"thought","text":"working"}'; printf '%s' "$KAI_PROMPT" > prompt.txt; echo "wrote prompt.txt"`;
    const acts = createEngineActivities({ config: makeConfig({ engines: { script: { command } } }), progress: sinks.factory, env: engineEnv() });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'script' }));
    expect(result.ok).toBe(true);
    expect(result.answer).toBe('wrote prompt.txt');
    expect(result.resumeToken).toMatch(/^script-/);
    expect(readFileSync(path.join(tmp.dir, 'prompt.txt'), 'utf8')).toBe('Add JWT authentication');
    expect(sinks.events.map((e) => e.type)).toEqual(['started', 'action', 'thought', 'action', 'completed']);
    expect(sinks.events[3]).toMatchObject({ type: 'action', kind: 'command', phase: 'completed', ok: true });
  });

  it('reports a failing command with its exit code and stderr', async () => {
    const acts = createEngineActivities({
      config: makeConfig({ engines: { script: { command: 'echo broken >&2; exit 4' } } }),
      progress: recordingSinks().factory,
      env: engineEnv(),
    });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'script', resumeToken: 'script-keep' }));
    expect(result).toMatchObject({ ok: false, resumeToken: 'script-keep' });
    expect(result.error).toMatch(/exited with code 4.*broken/);
  });

  it('applies a scripted list of edits when no command is configured', async () => {
    const sinks = recordingSinks();
    const acts = createEngineActivities({
      config: makeConfig(),
      progress: sinks.factory,
      scriptEdits: () => [
        { path: 'src/a.txt', content: 'one\n' },
        { path: 'src/a.txt', content: 'two\n', append: true },
      ],
    });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'script' }));
    expect(result.ok).toBe(true);
    expect(readFileSync(path.join(tmp.dir, 'src/a.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(sinks.events.filter((e) => e.type === 'action' && e.phase === 'completed')).toHaveLength(2);
    const escape = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, scriptEdits: () => [{ path: '../out.txt', content: 'x' }] });
    const refused = await run(new MockActivityEnvironment(), escape.engineRun, base(tmp.dir, { engine: 'script' }));
    expect(refused.ok).toBe(false);
    expect(existsSync(path.join(tmp.dir, '..', 'out.txt'))).toBe(false);
  });

  it('writes the default demo note when nothing is scripted', async () => {
    const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory });
    const result = await run(new MockActivityEnvironment(), acts.engineRun, base(tmp.dir, { engine: 'script' }));
    expect(result.ok).toBe(true);
    expect(readFileSync(path.join(tmp.dir, 'kai', 'AV-123.md'), 'utf8')).toContain('Add JWT authentication');
  });
});

// keep the fixture helper referenced for readers looking for the streams used above
void fixture;
