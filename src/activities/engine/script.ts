// The `script` engine: a plain command run in the worktree (`[engines.script] command`), or a
// scripted list of edits applied in-process. Deterministic: the offline demo and tests use it.
// A command may print kai's own normalized events as JSON lines; other output is its answer.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { EngineEvent } from './events';
import { head, isRecord, tail, type CompletedEvent, type EngineStreamParser, type LineWarning, type StreamEnd } from './parser';

const planItem = z.object({
  content: z.string(),
  status: z.enum(['pending', 'inProgress', 'completed', 'canceled']),
});
export const engineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), resumeToken: z.string().optional() }),
  z.object({
    type: z.literal('action'),
    id: z.string(),
    kind: z.string(),
    title: z.string(),
    detail: z.string().optional(),
    phase: z.enum(['started', 'updated', 'completed']),
    ok: z.boolean().optional(),
  }),
  z.object({ type: z.literal('thought'), text: z.string() }),
  z.object({ type: z.literal('plan'), items: z.array(planItem) }),
  z.object({
    type: z.literal('completed'),
    ok: z.boolean(),
    answer: z.string(),
    resumeToken: z.string().optional(),
    usage: z.record(z.string(), z.unknown()).optional(),
    error: z.string().optional(),
  }),
]);

const COMMAND_ACTION_ID = 'script-command';
/** Characters of plain output kept: the answer and the action's detail show its last 2,000. */
const OUTPUT_KEEP = 16 * 1024;

export class ScriptStreamParser implements EngineStreamParser {
  /** The end of the command's plain output (its answer), bounded in characters. */
  private output = '';
  private completion: CompletedEvent | undefined;
  private token: string | undefined;

  constructor(
    private readonly command: string | undefined,
    resumeToken: string | undefined,
    private readonly warn: LineWarning = () => undefined,
  ) {
    this.token = resumeToken;
  }

  get resumeToken(): string | undefined {
    return this.token;
  }

  begin(): EngineEvent[] {
    const events: EngineEvent[] = [{ type: 'started', resumeToken: this.token }];
    if (this.command)
      events.push({ type: 'action', id: COMMAND_ACTION_ID, kind: 'command', title: head(this.command, 200), phase: 'started' });
    return events;
  }

  line(raw: string): EngineEvent[] {
    const text = raw.trimEnd(); // linear time, whatever the line holds
    if (!text) return [];
    if (text.startsWith('{')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (isRecord(value)) {
        const parsed = engineEventSchema.safeParse(value);
        if (parsed.success) return this.passThrough(parsed.data as EngineEvent);
        if (typeof value.type === 'string') {
          this.warn('script: skipped an event kai does not know', { line: head(text, 300), reason: value.type });
          return [];
        }
      }
    }
    this.keepOutput(text);
    return [];
  }

  private keepOutput(text: string): void {
    const line = text.length > OUTPUT_KEEP ? text.slice(-OUTPUT_KEEP) : text;
    this.output = this.output ? `${this.output}\n${line}` : line;
    if (this.output.length > OUTPUT_KEEP * 2) this.output = this.output.slice(-OUTPUT_KEEP);
  }

  private passThrough(event: EngineEvent): EngineEvent[] {
    if (event.type === 'started') {
      if (event.resumeToken) this.token = event.resumeToken;
      return [];
    }
    if (event.type === 'completed') {
      if (event.resumeToken) this.token = event.resumeToken;
      this.completion = event;
      return []; // sent by finish(), after the command's own action closes
    }
    return [event];
  }

  finish(end: StreamEnd): EngineEvent[] {
    const ok = end.recorded ? true : end.exitCode === 0 && !end.signal;
    const output = tail(this.output.slice(-OUTPUT_KEEP));
    const events: EngineEvent[] = [];
    if (this.command) {
      const action: Extract<EngineEvent, { type: 'action' }> = {
        type: 'action',
        id: COMMAND_ACTION_ID,
        kind: 'command',
        title: head(this.command, 200),
        phase: 'completed',
        ok,
      };
      if (output) action.detail = output;
      events.push(action);
    }
    let completion: CompletedEvent;
    if (this.completion && (ok || !this.completion.ok)) completion = { ...this.completion };
    else if (ok) completion = { type: 'completed', ok: true, answer: output || `\`${this.command ?? 'script'}\` finished.` };
    else {
      const how = end.signal ? `was killed by ${end.signal}` : `exited with code ${end.exitCode}`;
      const stderr = end.stderrTail?.trim();
      completion = {
        type: 'completed',
        ok: false,
        answer: output,
        error: `the script ${how}${stderr ? `. stderr: ${tail(stderr, 1500)}` : ''}`,
      };
    }
    if (this.token && !completion.resumeToken) completion.resumeToken = this.token;
    events.push(completion);
    return events;
  }
}

/** One scripted edit: write or append a file inside the worktree. */
export type ScriptEdit = { path: string; content: string; append?: boolean };

/** Applies edits inside `cwd` only and returns the events a real engine would have sent. */
export async function applyScriptEdits(
  cwd: string,
  edits: ScriptEdit[],
  emit: (e: EngineEvent) => void,
  signal?: AbortSignal,
): Promise<{ ok: boolean; error?: string; changed: string[] }> {
  const root = path.resolve(cwd);
  const changed: string[] = [];
  for (const [i, edit] of edits.entries()) {
    if (signal?.aborted) return { ok: false, error: 'cancelled', changed };
    const id = `script-edit-${i}`;
    const title = `${edit.append ? 'append' : 'write'} ${edit.path}`;
    emit({ type: 'action', id, kind: 'file_change', title, phase: 'started' });
    const target = path.resolve(root, edit.path);
    if (path.isAbsolute(edit.path) || !target.startsWith(root + path.sep)) {
      emit({ type: 'action', id, kind: 'file_change', title, phase: 'completed', ok: false, detail: 'outside the worktree' });
      return { ok: false, error: `scripted edit ${edit.path} is outside the worktree`, changed };
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (edit.append) await fs.appendFile(target, edit.content);
    else await fs.writeFile(target, edit.content);
    changed.push(edit.path);
    emit({ type: 'action', id, kind: 'file_change', title, phase: 'completed', ok: true });
  }
  return { ok: true, changed };
}
