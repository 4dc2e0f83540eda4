// Google Gemini CLI `gemini --output-format stream-json`: JSONL events init (session_id: the
// resume token), message (assistant text, in delta chunks), tool_use / tool_result (paired by
// tool_id), error (warnings and errors) and result (the end, with status and stats). The plan is
// the `write_todos` tool's list. Shapes: packages/core/src/output/types.ts of google-gemini/gemini-cli.
import { z } from 'zod';
import type { EngineEvent } from './events';
import { JsonlStreamParser, isRecord, oneLine, tail, type ActionEvent, type PlanEvent } from './parser';

const initLine = z.looseObject({ session_id: z.string().optional(), model: z.string().optional() });
const messageLine = z.looseObject({ role: z.string(), content: z.string().optional(), delta: z.boolean().optional() });
const toolUseLine = z.looseObject({ tool_name: z.string(), tool_id: z.string(), parameters: z.unknown().optional() });
const toolResultLine = z.looseObject({
  tool_id: z.string(),
  status: z.string().optional(),
  output: z.string().optional(),
  error: z.looseObject({ message: z.string().optional() }).optional(),
});
const errorLine = z.looseObject({ severity: z.string().optional(), message: z.string().optional() });
const resultLine = z.looseObject({
  status: z.string().optional(),
  error: z.looseObject({ type: z.string().optional(), message: z.string().optional() }).optional(),
  stats: z.record(z.string(), z.unknown()).optional(),
});

const TODO_STATUS: Record<string, PlanEvent['items'][number]['status']> = {
  pending: 'pending',
  in_progress: 'inProgress',
  completed: 'completed',
  cancelled: 'canceled',
};

const KINDS: Record<string, string> = {
  run_shell_command: 'command',
  write_file: 'file_change',
  replace: 'file_change',
  edit: 'file_change',
  google_web_search: 'web_search',
};

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export class GeminiStreamParser extends JsonlStreamParser {
  /** The assistant's text since the last tool call: the answer is what it says last. */
  private text = '';
  private lastError: string | undefined;
  private tools = new Map<string, { title: string; kind: string }>();

  constructor(warn?: ConstructorParameters<typeof JsonlStreamParser>[1]) {
    super('gemini', warn);
  }

  protected handle(obj: Record<string, unknown> & { type: string }): EngineEvent[] {
    switch (obj.type) {
      case 'init':
        return this.started(initLine.parse(obj).session_id);
      case 'message': {
        const line = messageLine.parse(obj);
        if (line.role !== 'assistant' || !line.content) return [];
        this.text = line.delta === false ? line.content : this.text + line.content;
        return [];
      }
      case 'tool_use':
        return [...this.flushText(), ...this.toolUse(toolUseLine.parse(obj))];
      case 'tool_result':
        return this.toolResult(toolResultLine.parse(obj));
      case 'error': {
        const line = errorLine.parse(obj);
        const message = line.message ?? 'error';
        if (line.severity === 'error') this.lastError = message;
        return [{ type: 'thought', text: `${line.severity === 'warning' ? 'Warning' : 'Error'}: ${message}` }];
      }
      case 'result': {
        const line = resultLine.parse(obj);
        const answer = this.text.trim();
        const ok = line.status !== 'error';
        const out = [...this.started(undefined)];
        if (ok) out.push(this.complete({ ok, answer, usage: line.stats }));
        else out.push(this.complete({ ok, answer, usage: line.stats, error: line.error?.message || this.lastError || 'gemini reported an error' }));
        return out;
      }
      default:
        return [];
    }
  }

  /** Text said before a tool call is a thought on the way, not the answer. */
  private flushText(): EngineEvent[] {
    const text = this.text.trim();
    this.text = '';
    return text ? [{ type: 'thought', text }] : [];
  }

  private toolUse(line: z.infer<typeof toolUseLine>): EngineEvent[] {
    const params = isRecord(line.parameters) ? line.parameters : {};
    if (line.tool_name === 'write_todos') {
      const todos = Array.isArray(params.todos) ? params.todos.filter(isRecord) : [];
      this.tools.set(line.tool_id, { title: 'plan', kind: 'plan' });
      return [{ type: 'plan', items: todos.map((t) => ({ content: str(t.description) ?? '', status: TODO_STATUS[str(t.status) ?? ''] ?? 'pending' })) }];
    }
    const kind = KINDS[line.tool_name] ?? 'tool';
    const subject = str(params.command) ?? str(params.file_path) ?? str(params.absolute_path) ?? str(params.query) ?? str(params.url) ?? str(params.pattern);
    const title = kind === 'command' ? oneLine(subject ?? 'command') : subject ? `${line.tool_name} ${oneLine(subject)}` : line.tool_name;
    this.tools.set(line.tool_id, { title, kind });
    const action: ActionEvent = { type: 'action', id: line.tool_id, kind, title, phase: 'started' };
    if (kind === 'tool' && Object.keys(params).length) action.detail = oneLine(params, 1000);
    return [action];
  }

  private toolResult(line: z.infer<typeof toolResultLine>): EngineEvent[] {
    const tool = this.tools.get(line.tool_id) ?? { title: 'tool', kind: 'tool' };
    this.tools.delete(line.tool_id);
    if (tool.kind === 'plan') return [];
    const ok = line.status !== 'error';
    const action: ActionEvent = { type: 'action', id: line.tool_id, kind: tool.kind, title: tool.title, phase: 'completed', ok };
    const detail = ok ? line.output : (line.error?.message ?? line.output);
    if (detail) action.detail = tail(detail);
    return [action];
  }
}
