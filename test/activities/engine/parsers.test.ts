import { createReadStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { engineParse } from '../../../src/cli/engine-parse';
import type { EngineEvent } from '../../../src/activities/engine/events';
import { fixture } from './helpers';

async function parse(engine: string, input: Readable | string) {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const warnings: string[] = [];
  const summary = await engineParse(engine, stream, out, (w) => warnings.push(w));
  const events = chunks
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EngineEvent);
  return { events, summary, warnings };
}

const of = <T extends EngineEvent['type']>(events: EngineEvent[], type: T) =>
  events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

describe('claude stream-json parsing', () => {
  it('turns every Claude Code event type into normalized events, skipping unknown and broken lines', async () => {
    const { events, summary, warnings } = await parse('claude', fixture('claude', 'basic.jsonl'));
    expect(events[0]).toEqual({ type: 'started', resumeToken: '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21' });
    expect(of(events, 'started')).toHaveLength(1);
    // thinking and interim text become thoughts
    expect(of(events, 'thought').map((t) => t.text)).toEqual([
      'The user wants JWT auth. I should look at the router first.',
      'Let me look at the existing routes.',
      'I added the JWT middleware in src/routes/auth.ts and wired it into the router.',
    ]);
    // TodoWrite is the plan, not an action
    expect(of(events, 'plan')).toEqual([
      {
        type: 'plan',
        items: [
          { content: 'Read the router', status: 'completed' },
          { content: 'Add the JWT middleware', status: 'inProgress' },
          { content: 'Write tests', status: 'pending' },
        ],
      },
    ]);
    const actions = of(events, 'action');
    expect(actions.map((a) => [a.id, a.kind, a.phase, a.ok])).toEqual([
      ['toolu_01Bash', 'command', 'started', undefined],
      ['toolu_01Bash', 'command', 'completed', true],
      ['toolu_01Edit', 'file_change', 'started', undefined],
      ['toolu_01Edit', 'file_change', 'completed', false],
      ['toolu_01Mcp', 'mcp', 'started', undefined],
      ['toolu_01Web', 'web_search', 'started', undefined],
      ['toolu_01Mcp', 'mcp', 'completed', true],
      ['toolu_01Web', 'web_search', 'completed', true],
    ]);
    expect(actions[0]!.title).toBe('ls src/routes');
    expect(actions[1]).toMatchObject({ title: 'ls src/routes', detail: 'auth.ts\nindex.ts\nusers.ts' });
    expect(actions[2]!.title).toBe('Edit /tmp/work/src/routes/auth.ts');
    expect(actions[3]!.detail).toContain('String to replace not found');
    expect(actions[4]!.title).toBe('linear.get_issue AV-123');
    expect(actions[6]!.detail).toContain('"identifier":"AV-123"');
    const completed = of(events, 'completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      ok: true,
      answer: 'I added the JWT middleware in src/routes/auth.ts and wired it into the router.',
      resumeToken: '3f2c1b9e-7d4a-4c1e-9b8a-2f6d5e4c3b21',
      usage: { input_tokens: 36, output_tokens: 812, total_cost_usd: 0.0841, num_turns: 9 },
    });
    expect(events[events.length - 1]!.type).toBe('completed');
    expect(summary.skipped).toBe(1);
    expect(warnings[0]).toMatch(/not JSON/);
  });

  it('reports a failed Claude run with its errors and permission denials', async () => {
    const { events } = await parse('claude', fixture('claude', 'error.jsonl'));
    const completed = of(events, 'completed')[0]!;
    expect(completed.ok).toBe(false);
    expect(completed.resumeToken).toBe('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d');
    expect(completed.error).toContain('Reached maximum number of turns (2)');
    expect(completed.error).toContain('permission denied for Bash');
  });
});

describe('codex exec --json parsing', () => {
  it('maps thread, turn and every item type to normalized events', async () => {
    const { events, summary } = await parse('codex', fixture('codex', 'basic.jsonl'));
    expect(events[0]).toEqual({ type: 'started', resumeToken: '0199a213-81c0-7800-8aa1-bbab2a035a53' });
    const plans = of(events, 'plan');
    expect(plans).toHaveLength(3);
    expect(plans[0]!.items).toEqual([
      { content: 'Read the router', status: 'inProgress' },
      { content: 'Add the JWT middleware', status: 'pending' },
      { content: 'Write tests', status: 'pending' },
    ]);
    expect(plans[1]!.items.map((i) => i.status)).toEqual(['completed', 'inProgress', 'pending']);
    expect(plans[2]!.items.every((i) => i.status === 'completed')).toBe(true);

    const actions = of(events, 'action');
    expect(actions.map((a) => [a.id, a.kind, a.phase, a.ok])).toEqual([
      ['item_2', 'command', 'started', undefined],
      ['item_2', 'command', 'updated', undefined],
      ['item_2', 'command', 'completed', true],
      ['item_3', 'file_change', 'completed', true],
      ['item_4', 'command', 'started', undefined],
      ['item_4', 'command', 'completed', false],
      ['item_5', 'mcp', 'started', undefined],
      ['item_5', 'mcp', 'completed', false],
      ['item_6', 'web_search', 'started', undefined],
      ['item_6', 'web_search', 'completed', true],
    ]);
    expect(actions[0]!.title).toBe('ls src/routes');
    expect(actions[2]!.detail).toBe('auth.ts\nindex.ts\nusers.ts\n');
    expect(actions[3]).toMatchObject({
      title: '2 files changed',
      detail: 'update /tmp/work/src/routes/auth.ts\nadd /tmp/work/src/middleware/jwt.ts',
    });
    expect(actions[7]).toMatchObject({ title: 'linear.get_issue', detail: 'tool call failed: unauthorized' });
    expect(actions[8]!.title).toBe('express jwt middleware');

    const thoughts = of(events, 'thought').map((t) => t.text);
    expect(thoughts[0]).toContain('Planning the change');
    expect(thoughts).toContain('Looking at the failing test next.');
    expect(thoughts.some((t) => t.startsWith('Warning: Model metadata'))).toBe(true);

    const completed = of(events, 'completed');
    expect(completed).toEqual([
      {
        type: 'completed',
        ok: true,
        answer: 'Added JWT middleware in src/middleware/jwt.ts and used it in the auth routes. Tests pass.',
        resumeToken: '0199a213-81c0-7800-8aa1-bbab2a035a53',
        usage: { input_tokens: 24763, cached_input_tokens: 24448, output_tokens: 122 },
      },
    ]);
    expect(summary.skipped).toBe(1);
  });

  it('reports turn.failed as a failed completion with the error message', async () => {
    const { events } = await parse('codex', fixture('codex', 'failed.jsonl'));
    expect(of(events, 'thought')[0]!.text).toBe('Codex could not reach its model API: Reconnecting... 1/5');
    expect(of(events, 'completed')).toEqual([
      {
        type: 'completed',
        ok: false,
        answer: '',
        error: 'stream disconnected before completion: Transport error: timeout',
        resumeToken: '0199a213-81c0-7800-8aa1-ccccdddd0001',
      },
    ]);
  });
});

describe('opencode run --format json parsing', () => {
  it('maps steps, text, tools, todowrite and the final step to normalized events', async () => {
    const { events, summary } = await parse('opencode', fixture('opencode', 'basic.jsonl'));
    expect(events[0]).toEqual({ type: 'started', resumeToken: 'ses_494719016ffe85dkDMj0FPRbHK' });
    expect(of(events, 'started')).toHaveLength(1);
    expect(of(events, 'plan')).toEqual([
      {
        type: 'plan',
        items: [
          { content: 'Read the router', status: 'completed' },
          { content: 'Add the JWT middleware', status: 'inProgress' },
          { content: 'Old idea', status: 'canceled' },
        ],
      },
    ]);
    const actions = of(events, 'action');
    expect(actions).toEqual([
      { type: 'action', id: 'r9bQWsNLvOrJGIOz', kind: 'command', title: 'ls src/routes', phase: 'completed', ok: true, detail: 'auth.ts\nindex.ts\n' },
      {
        type: 'action',
        id: 'call_edit_1',
        kind: 'file_change',
        title: 'edit /tmp/work/src/routes/auth.ts',
        phase: 'completed',
        ok: false,
        detail: 'oldString not found in content',
      },
    ]);
    expect(of(events, 'thought').map((t) => t.text)).toEqual(["I'll check the routes first.", 'Added the JWT middleware to the auth routes.']);
    expect(of(events, 'completed')).toEqual([
      {
        type: 'completed',
        ok: true,
        answer: 'Added the JWT middleware to the auth routes.',
        resumeToken: 'ses_494719016ffe85dkDMj0FPRbHK',
        usage: { cost: 0.003, tokens: { input: 22443, output: 118, reasoning: 0, cache: { read: 21415, write: 0 } } },
      },
    ]);
    expect(summary.skipped).toBe(1);
  });

  it('reports an error event as a failed completion', async () => {
    const { events } = await parse('opencode', fixture('opencode', 'error.jsonl'));
    expect(of(events, 'completed')).toEqual([
      { type: 'completed', ok: false, answer: '', error: 'Rate limit exceeded', resumeToken: 'ses_5000aaaabbbbccccddddeeee' },
    ]);
  });

  it('treats a clean end after a step without a reason as success (older OpenCode)', async () => {
    const { events } = await parse('opencode', fixture('opencode', 'no-reason.jsonl'));
    expect(of(events, 'completed')[0]).toMatchObject({ ok: true, answer: 'Done.', resumeToken: 'ses_6000aaaabbbbccccddddeeee' });
  });
});

describe('engine parse edge cases', () => {
  it('gives a failed completion when a stream ends without one', async () => {
    const { events } = await parse('claude', Readable.from(['{"type":"system","subtype":"init","session_id":"abc"}\n']));
    expect(events).toEqual([
      { type: 'started', resumeToken: 'abc' },
      { type: 'completed', ok: false, answer: '', resumeToken: 'abc', error: 'the recorded stream ended without a final result' },
    ]);
  });

  it('survives lines of the wrong shape without crashing', async () => {
    const input = Readable.from([
      '[1,2,3]\n',
      '{"type":"assistant","message":"not an object"}\n',
      '{"type":"item.completed"}\n',
      '\n',
      '{"type":"result","subtype":"success","is_error":false,"result":"fine","session_id":"s1"}\n',
    ]);
    const { events, summary } = await parse('claude', input);
    // Two broken lines are reported; the unknown type is skipped quietly, as new types should be.
    expect(summary.skipped).toBe(2);
    expect(events[events.length - 1]).toMatchObject({ type: 'completed', ok: true, answer: 'fine' });
  });

  it('passes the script engine own normalized events through and refuses unknown engines', async () => {
    const input = Readable.from([
      '{"type":"thought","text":"thinking"}\n',
      'plain output line\n',
      '{"type":"completed","ok":true,"answer":"all done"}\n',
    ]);
    const { events } = await parse('script', input);
    expect(events).toEqual([
      { type: 'started' },
      { type: 'thought', text: 'thinking' },
      { type: 'completed', ok: true, answer: 'all done' },
    ]);
    await expect(parse('aider', Readable.from([]))).rejects.toThrow(/claude, codex, opencode, pi, gemini, script/);
  });
});

describe('streams recorded from the real CLIs against the model-API emulator', () => {
  it('claude 2.1.332: TaskCreate/TaskUpdate become the plan, the command and the write are actions', async () => {
    const { events } = await parse('claude', fixture('claude', 'tasks.jsonl'));
    const plans = of(events, 'plan');
    expect(plans[0]!.items).toEqual([{ content: 'Write hello.txt', status: 'pending' }]);
    expect(plans.at(-1)!.items).toEqual([{ content: 'Write hello.txt', status: 'completed' }]);
    const done = of(events, 'action').filter((a) => a.phase === 'completed');
    expect(done.map((a) => a.kind)).toEqual(expect.arrayContaining(['file_change', 'command']));
    expect(of(events, 'completed')[0]).toMatchObject({ ok: true, answer: 'Wrote hello.txt and ran the check.' });
    expect(of(events, 'completed')[0]!.limitations).toBeUndefined();
  });

  it('codex 0.171.0 in a read-only sandbox: the model says done, kai says what failed', async () => {
    const { events } = await parse('codex', fixture('codex', 'read-only-sandbox.jsonl'));
    const completed = of(events, 'completed')[0]!;
    expect(completed.ok).toBe(true);
    expect(completed.limitations).toEqual([expect.stringMatching(/^read-only sandbox: echo command-ran > ran\.txt: Read-only file system/)]);
    expect(of(events, 'plan').at(-1)!.items.every((i) => i.status === 'completed')).toBe(true);
  });

  it('opencode 1.18.33: todowrite, write and bash, then the final step', async () => {
    const { events } = await parse('opencode', fixture('opencode', 'emulated-run.jsonl'));
    expect(of(events, 'plan')[0]!.items.map((i) => i.content)).toEqual(['Write hello.txt', 'Run the check']);
    expect(of(events, 'action').filter((a) => a.phase === 'completed').map((a) => a.kind)).toEqual(['file_change', 'command']);
    expect(of(events, 'completed')[0]).toMatchObject({ ok: true, answer: 'Wrote hello.txt and ran the check.' });
  });
});

describe('honest outcomes', () => {
  const lines = (...objs: unknown[]) => Readable.from(objs.map((o) => `${JSON.stringify(o)}\n`));

  it('claude: api_retry events are visible thoughts; permission denials on a finished run become limitations', async () => {
    const { events } = await parse(
      'claude',
      lines(
        { type: 'system', subtype: 'init', session_id: 's1' },
        { type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 10, retry_delay_ms: 600, error_status: 401, error: 'authentication_failed' },
        { type: 'assistant', message: { content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'npm test' } }] } },
        { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', is_error: true, content: 'Claude requested permissions to use Bash, but you haven\'t granted it yet.' }] } },
        {
          type: 'result', subtype: 'success', is_error: false, result: 'Done.', session_id: 's1',
          permission_denials: [{ tool_name: 'Bash', tool_use_id: 't1', tool_input: { command: 'npm test' } }],
        },
        { type: 'system', subtype: 'api_retry', attempt: 2 },
      ),
    );
    expect(of(events, 'thought')[0]!.text).toMatch(/^Claude could not reach its model API: authentication_failed \(HTTP 401\) — attempt 1 of 10, retrying in 1s$/);
    const completed = of(events, 'completed')[0]!;
    expect(completed).toMatchObject({ ok: true, answer: 'Done.' });
    expect(completed.limitations).toEqual(expect.arrayContaining(['permission denied: Bash npm test']));
    // Nothing after the completion is progress.
    expect(events.at(-1)).toEqual(completed);
  });

  it('codex: final_answer is the answer, collab_tool_call is an action, Reconnecting is a counted retry, nothing counts after the end, ANSI is stripped', async () => {
    const { events } = await parse(
      'codex',
      lines(
        { type: 'thread.started', thread_id: 'th1' },
        { type: 'error', message: 'Reconnecting... 1/5 (stream disconnected before completion: error sending request)' },
        { type: 'item.completed', item: { id: 'i0', type: 'collab_tool_call', tool: 'spawn_agent', prompt: 'check the tests', receiver_thread_ids: ['th2'], status: 'completed' } },
        { type: 'item.completed', item: { id: 'i1', type: 'agent_message', phase: 'final_answer', text: 'The final answer.' } },
        { type: 'item.completed', item: { id: 'i2', type: 'agent_message', phase: 'commentary', text: 'a late remark' } },
        { type: 'turn.failed', error: { message: '\u001b[31mstream error\u001b[0m: 500' } },
        { type: 'error', message: 'after the end' },
      ),
    );
    expect(of(events, 'thought')[0]!.text).toMatch(/^Codex could not reach its model API: Reconnecting\.\.\. 1\/5/);
    expect(of(events, 'action')[0]).toMatchObject({ kind: 'tool', title: 'spawn_agent check the tests', detail: 'agents: th2', ok: true });
    const completed = of(events, 'completed')[0]!;
    expect(completed).toMatchObject({ ok: false, answer: 'The final answer.', error: 'stream error: 500' });
    expect(events.at(-1)).toEqual(completed);
    expect(events.some((e) => e.type === 'thought' && e.text.includes('after the end'))).toBe(false);
  });

  it('opencode: a rejected permission is a limitation', async () => {
    const { events } = await parse(
      'opencode',
      lines(
        { type: 'tool_use', sessionID: 'ses_1', part: { tool: 'bash', callID: 'c1', state: { status: 'error', input: { command: 'rm -rf /tmp/x' }, error: 'The user rejected permission to use this specific tool call.' } } },
        { type: 'text', sessionID: 'ses_1', part: { text: 'Could not.', messageID: 'm1' } },
        { type: 'step_finish', sessionID: 'ses_1', part: { reason: 'stop' } },
      ),
    );
    expect(of(events, 'completed')[0]!.limitations).toEqual(['rm -rf /tmp/x: The user rejected permission to use this specific tool call.']);
  });
});
