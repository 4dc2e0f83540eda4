// The real claude, codex and opencode CLIs (pinned versions from scripts/ensure-engines.sh) run
// through kai's engine activity against the loopback model-API emulator: real edits, real
// commands, the plan, resume, a missing credential, a lost conversation, an unreachable API.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import type { EngineEvent } from '../../src/activities/engine/events';
import { FOLLOWUP_MARKER } from '../../src/emulator/model-api';
import { startHarness, type EngineHarness, type RealEngine } from './harness';

jest.setTimeout(480_000);

const ENGINES: RealEngine[] = (process.env.KAI_REAL_ENGINES ?? 'codex,claude,opencode').split(',').filter(Boolean) as RealEngine[];

const plans = (events: EngineEvent[]) => events.filter((e): e is Extract<EngineEvent, { type: 'plan' }> => e.type === 'plan');
const actions = (events: EngineEvent[], kind: string) =>
  events.filter((e): e is Extract<EngineEvent, { type: 'action' }> => e.type === 'action' && e.kind === kind && e.phase === 'completed');

describe.each(ENGINES)('the real %s CLI through engineRun', (engine) => {
  let h: EngineHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('edits a file, runs a command, publishes its plan and answers; a follow-up resumes the same conversation', async () => {
    h = await startHarness(engine);
    const first = await h.run();
    expect(first.error).toBeUndefined();
    expect(first).toMatchObject({ ok: true });
    expect(first.answer).toContain('Wrote hello.txt and ran the check.');
    expect(first.limitations).toBeUndefined();
    // Real effects in the worktree.
    expect(readFileSync(path.join(h.worktree, 'hello.txt'), 'utf8')).toBe('hello from the engine\n');
    expect(readFileSync(path.join(h.worktree, 'ran.txt'), 'utf8')).toBe('command-ran\n');
    // The events kai streams to Linear.
    expect(actions(h.sinks.events, 'command').some((a) => a.title.includes('echo command-ran') && a.ok)).toBe(true);
    expect(actions(h.sinks.events, 'file_change').some((a) => a.title.includes('hello.txt') && a.ok)).toBe(true);
    const plan = plans(h.sinks.events);
    expect(plan.length).toBeGreaterThan(0);
    expect(plan[0]!.items.map((i) => i.content).join(' | ')).toContain('Write hello.txt');
    expect(plan.at(-1)!.items.every((i) => i.status === 'completed')).toBe(true);
    expect(first.planPublished).toBe(true);
    // The plan reached Linear: the session's plan in the Linear emulator is the engine's.
    const session = h.linear.emulator.snapshot().sessions.find((x) => x.id === h!.linear.sessionId)!;
    expect((session.plan as Array<{ content: string; status: string }>).map((i) => i.content).join(' | ')).toContain('Write hello.txt');
    expect((session.plan as Array<{ status: string }>).every((i) => i.status === 'completed')).toBe(true);
    expect(first.resumeToken).toBeTruthy();

    const before = h.emu.requests.length;
    const second = await h.run({ prompt: `Anything else? ${FOLLOWUP_MARKER}`, resumeToken: first.resumeToken });
    expect(second).toMatchObject({ ok: true, resumeToken: first.resumeToken });
    expect(second.answer).toContain('Follow-up done');
    expect(second.resumeLost).toBeUndefined();
    // The model received turn 1's history with the follow-up.
    const followUp = h.emu.requests.slice(before).find((r) => r.step === 'followup');
    expect(followUp).toBeDefined();
    const entries = followUp!.transcript!.entries;
    expect(entries.some((e) => e.kind === 'user' && e.text.includes('KAI-EMU-TASK'))).toBe(true);
    expect(entries.filter((e) => e.kind === 'call').length).toBeGreaterThanOrEqual(3);
    expect(entries.some((e) => e.kind === 'assistant' && e.text.includes('Wrote hello.txt'))).toBe(true);
  });

  it('ends a run without a credential with a clear message, not a success', async () => {
    h = await startHarness(engine, { noCredential: true });
    const result = await h.run();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/api key|credential|KAI_EMU_KEY|auth|401|login|log in/i);
    expect(result.error).not.toMatch(/\u001b\[/);
    expect(existsSync(path.join(h.worktree, 'hello.txt'))).toBe(false);
  });

  it('starts a fresh conversation with the recap when the one to resume is gone', async () => {
    h = await startHarness(engine);
    const lost = engine === 'opencode' ? 'ses_0000000000000000000000000a' : '0199a213-81c0-7800-8aa1-000000000000';
    const result = await h.run({ resumeToken: lost, recap: 'Recap: earlier we discussed hello.txt. KAI-EMU-RECAP' });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, resumeLost: true });
    expect(result.resumeToken).toBeTruthy();
    expect(result.resumeToken).not.toBe(lost);
    expect(result.answer).toMatch(/could not be resumed/);
    expect(h.sinks.events.some((e) => e.type === 'thought' && /could not be resumed.*fresh one/.test(e.text))).toBe(true);
    const withRecap = h.emu.requests.find((r) => r.transcript?.entries.some((e) => e.kind === 'user' && e.text.includes('KAI-EMU-RECAP')));
    expect(withRecap).toBeDefined();
    expect(readFileSync(path.join(h.worktree, 'hello.txt'), 'utf8')).toBe('hello from the engine\n');
  });

  it('fails fast with a clear message when the model API is out of reach', async () => {
    h = await startHarness(engine, { emulator: { dropConnections: true }, engineConfig: { max_reconnects: 1 } });
    const result = await h.run();
    expect(result.ok).toBe(false);
    if (engine === 'opencode') {
      // OpenCode gives up by itself at once and says why.
      expect(result.error).toMatch(/Cannot connect to API/);
    } else {
      // kai stopped it after the bounded number of reconnects (the CLI would keep retrying).
      expect(result.error).toMatch(/could not reach its model API \(\d+ retries or reconnects; the limit is 1\), so kai stopped it/);
      expect(h.sinks.events.some((e) => e.type === 'thought' && /could not reach its model API/.test(e.text))).toBe(true);
    }
    expect(result.error).not.toMatch(/\u001b\[/);
  });

  it('stops the CLI on cancellation', async () => {
    h = await startHarness(engine, { emulator: { hang: true } });
    const running = h.run().catch((e: unknown) => e);
    const harness = h;
    await waitUntil(() => harness.emu.requests.some((r) => r.api !== 'other'));
    await waitUntil(() => harness.pids.length > 0);
    harness.env.cancel();
    expect(await running).toBeInstanceOf(CancelledFailure);
    // The engine's whole process group is gone.
    for (const pid of harness.pids) expect(groupMembers(pid)).toEqual([]);
  });
});

/** Processes of a group that still run (zombies waiting for a reaper do not count). */
function groupMembers(pgid: number): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push(`${pid} ${fields[0]} ${stat.slice(stat.indexOf('(') , stat.lastIndexOf(')') + 1)}`);
    } catch {
      // gone
    }
  }
  return out;
}

async function waitUntil(check: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
