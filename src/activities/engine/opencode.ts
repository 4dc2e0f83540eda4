// OpenCode `opencode run --format json`: every line carries `sessionID` (the resume token) and a
// `part`. The run ends with a `step_finish` whose reason is "stop", or an `error`.
import { z } from 'zod';
import type { EngineEvent } from './events';
import { mapTodoStatus } from './claude';
import { JsonlStreamParser, isRecord, oneLine, tail, type ActionEvent, type CompletedEvent, type StreamEnd } from './parser';

const envelope = z.looseObject({ sessionID: z.string().optional(), part: z.looseObject({}).optional() });
const textPart = z.looseObject({ text: z.string().optional(), messageID: z.string().optional() });
const toolPart = z.looseObject({
  id: z.string().optional(),
  callID: z.string().optional(),
  tool: z.string(),
  state: z
    .looseObject({
      status: z.string().optional(),
      input: z.unknown().optional(),
      output: z.unknown().optional(),
      title: z.string().optional(),
      error: z.unknown().optional(),
    })
    .optional(),
});
const stepFinish = z.looseObject({
  reason: z.string().optional(),
  cost: z.number().optional(),
  tokens: z.record(z.string(), z.unknown()).optional(),
});
const errorLine = z.looseObject({
  error: z
    .looseObject({
      name: z.string().optional(),
      message: z.string().optional(),
      data: z.looseObject({ message: z.string().optional() }).optional(),
    })
    .optional(),
});

export function opencodeToolKind(tool: string): string {
  const t = tool.toLowerCase();
  if (t === 'bash' || t === 'shell') return 'command';
  if (['edit', 'write', 'patch', 'multiedit', 'apply_patch'].includes(t)) return 'file_change';
  if (t === 'webfetch' || t === 'websearch' || t === 'codesearch') return 'web_search';
  if (t.includes('_') && !['apply_patch', 'todo_write'].includes(t)) return 'mcp';
  return 'tool';
}

function opencodeToolTitle(tool: string, input: unknown, stateTitle: string | undefined): string {
  const i = isRecord(input) ? input : {};
  if (tool === 'bash' && typeof i.command === 'string') return oneLine(i.command);
  for (const key of ['filePath', 'path', 'pattern', 'url', 'query', 'description']) {
    if (typeof i[key] === 'string' && i[key]) return `${tool} ${oneLine(i[key], 160)}`;
  }
  return stateTitle ? `${tool} ${oneLine(stateTitle, 160)}` : tool;
}

function addUsage(into: Record<string, unknown>, key: string, value: unknown): void {
  if (typeof value === 'number') into[key] = (typeof into[key] === 'number' ? (into[key] as number) : 0) + value;
  else if (isRecord(value)) {
    const sub = isRecord(into[key]) ? (into[key] as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(value)) addUsage(sub, k, v);
    into[key] = sub;
  }
}

export class OpenCodeStreamParser extends JsonlStreamParser {
  private messageId: string | undefined;
  private answer: string[] = [];
  private usage: Record<string, unknown> = {};
  private sawStepFinish = false;
  private seq = 0;

  constructor(warn?: ConstructorParameters<typeof JsonlStreamParser>[1]) {
    super('opencode', warn);
  }

  protected handle(obj: Record<string, unknown> & { type: string }): EngineEvent[] {
    const env = envelope.parse(obj);
    const out: EngineEvent[] = [];
    if (env.sessionID) out.push(...this.started(env.sessionID));
    const part = env.part ?? {};
    switch (obj.type) {
      case 'step_start':
        return out;
      case 'text': {
        const p = textPart.parse(part);
        if (!p.text?.trim()) return out;
        if (p.messageID !== this.messageId) {
          this.messageId = p.messageID;
          this.answer = [];
        }
        this.answer.push(p.text);
        out.push({ type: 'thought', text: p.text });
        return out;
      }
      case 'reasoning': {
        const p = textPart.parse(part);
        if (p.text?.trim()) out.push({ type: 'thought', text: p.text });
        return out;
      }
      case 'tool_use':
        out.push(...this.tool(toolPart.parse(part)));
        return out;
      case 'step_finish': {
        const p = stepFinish.parse(part);
        this.sawStepFinish = true;
        if (p.cost !== undefined) addUsage(this.usage, 'cost', p.cost);
        if (p.tokens) addUsage(this.usage, 'tokens', p.tokens);
        if (p.reason === 'stop') out.push(this.complete(this.success()));
        return out;
      }
      case 'error': {
        const e = errorLine.parse(obj).error;
        const error = e?.data?.message ?? e?.message ?? e?.name ?? 'opencode reported an error';
        out.push(this.complete({ ok: false, answer: this.answer.join('\n\n'), error }));
        return out;
      }
      default:
        return out;
    }
  }

  private tool(p: z.infer<typeof toolPart>): EngineEvent[] {
    const state = p.state ?? {};
    const id = p.callID ?? p.id ?? `tool_${this.seq++}`;
    if (p.tool === 'todowrite' || p.tool === 'todo_write') {
      const todos = isRecord(state.input) && Array.isArray(state.input.todos) ? state.input.todos.filter(isRecord) : [];
      return [
        {
          type: 'plan',
          items: todos.map((t) => ({ content: String(t.content ?? ''), status: mapTodoStatus(String(t.status ?? '')) })),
        },
      ];
    }
    const status = state.status;
    const phase: ActionEvent['phase'] = status === 'completed' || status === 'error' ? 'completed' : status === 'running' ? 'updated' : 'started';
    const action: ActionEvent = {
      type: 'action',
      id,
      kind: opencodeToolKind(p.tool),
      title: opencodeToolTitle(p.tool, state.input, state.title),
      phase,
    };
    const detail = status === 'error' ? state.error : state.output;
    if (status === 'error') {
      const text = typeof state.error === 'string' ? state.error : JSON.stringify(state.error ?? '');
      if (/permission|rejected|denied|not allowed|read-only file system/i.test(text)) this.limitation(`${action.title}: ${text}`);
    }
    if (detail !== undefined && detail !== null && detail !== '')
      action.detail = tail(typeof detail === 'string' ? detail : JSON.stringify(detail));
    if (phase === 'completed') action.ok = status === 'completed';
    return [action];
  }

  private success(): Omit<CompletedEvent, 'type'> {
    return { ok: true, answer: this.answer.join('\n\n'), usage: Object.keys(this.usage).length ? this.usage : undefined };
  }

  /** Older OpenCode versions omit the final step's reason: a clean exit after a step is success. */
  protected override finishWithoutCompletion(end: StreamEnd): Omit<CompletedEvent, 'type'> | undefined {
    if (end.exitCode === 0 && !end.signal && this.sawStepFinish) return this.success();
    return undefined;
  }
}
