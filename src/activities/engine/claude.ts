// Claude Code `claude -p --output-format stream-json --verbose`: system/init, assistant and
// user messages (text, thinking, tool_use, tool_result blocks), and one final `result`.
import { z } from 'zod';
import type { EngineEvent } from './events';
import { JsonlStreamParser, head, isRecord, oneLine, tail, type ActionEvent, type PlanEvent } from './parser';

const block = z.looseObject({ type: z.string() });
const systemLine = z.looseObject({ subtype: z.string().optional(), session_id: z.string().optional() });
const messageLine = z.looseObject({
  message: z.looseObject({ content: z.union([z.string(), z.array(block)]).optional() }),
  session_id: z.string().optional(),
});
const resultLine = z.looseObject({
  subtype: z.string().optional(),
  is_error: z.boolean().optional(),
  result: z.string().optional(),
  session_id: z.string().optional(),
  usage: z.record(z.string(), z.unknown()).optional(),
  total_cost_usd: z.number().optional(),
  num_turns: z.number().optional(),
  duration_ms: z.number().optional(),
  permission_denials: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});
const todo = z.looseObject({ content: z.string(), status: z.string().optional(), activeForm: z.string().optional() });

const FILE_TOOLS = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit']);
const COMMAND_TOOLS = new Set(['Bash', 'BashOutput', 'KillShell', 'KillBash']);
const WEB_TOOLS = new Set(['WebSearch', 'WebFetch']);

export function claudeToolKind(name: string): string {
  if (COMMAND_TOOLS.has(name)) return 'command';
  if (FILE_TOOLS.has(name)) return 'file_change';
  if (WEB_TOOLS.has(name)) return 'web_search';
  if (name.startsWith('mcp__')) return 'mcp';
  return 'tool';
}

/** A short human title for a tool call: the command, the file, the pattern... */
export function claudeToolTitle(name: string, input: unknown): string {
  const i = isRecord(input) ? input : {};
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof i[k] === 'string' && i[k]) return i[k] as string;
    return undefined;
  };
  if (name === 'Bash') return oneLine(pick('command') ?? name);
  const arg = pick('file_path', 'notebook_path', 'path', 'pattern', 'url', 'query', 'description', 'prompt');
  if (name.startsWith('mcp__')) {
    const [, server, tool] = name.split('__');
    const first = arg ?? Object.values(i).find((v): v is string => typeof v === 'string' && v.length > 0);
    return `${server ?? 'mcp'}.${tool ?? name}${first ? ` ${oneLine(first, 120)}` : ''}`;
  }
  return arg ? `${name} ${oneLine(arg, 160)}` : name;
}

export function mapTodoStatus(status: string | undefined): PlanEvent['items'][number]['status'] {
  switch (status) {
    case 'completed':
    case 'done':
      return 'completed';
    case 'in_progress':
    case 'inProgress':
    case 'running':
      return 'inProgress';
    case 'cancelled':
    case 'canceled':
      return 'canceled';
    default:
      return 'pending';
  }
}

/** Text of a tool_result's content: a string or a list of text blocks. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((c) => (isRecord(c) && typeof c.text === 'string' ? c.text : isRecord(c) ? `[${String(c.type)}]` : ''))
      .filter(Boolean)
      .join('\n');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

/** A tool result that says the tool was refused or could not write. */
const DENIED = /permission|not allowed|denied|read-only file system|EROFS|EACCES/i;

function describeDenial(d: unknown): string {
  if (!isRecord(d)) return JSON.stringify(d);
  const name = typeof d.tool_name === 'string' ? d.tool_name : 'a tool';
  const input = isRecord(d.tool_input) ? d.tool_input : {};
  const what = [input.command, input.file_path, input.path, input.url].find((v): v is string => typeof v === 'string' && v.length > 0);
  return what ? `${name} ${oneLine(what, 160)}` : name;
}

/** `system/api_retry`: Claude Code could not reach its model API and retries. */
function describeApiRetry(obj: Record<string, unknown>): string {
  const attempt = typeof obj.attempt === 'number' ? obj.attempt : undefined;
  const max = typeof obj.max_retries === 'number' ? obj.max_retries : undefined;
  const status = typeof obj.error_status === 'number' ? ` (HTTP ${obj.error_status})` : '';
  const error = typeof obj.error === 'string' ? obj.error : isRecord(obj.error) ? JSON.stringify(obj.error) : 'no response';
  const delay = typeof obj.retry_delay_ms === 'number' ? `, retrying in ${Math.round(obj.retry_delay_ms / 1000)}s` : ', retrying';
  return `Claude could not reach its model API: ${oneLine(error, 200)}${status}${attempt !== undefined ? ` — attempt ${attempt}${max !== undefined ? ` of ${max}` : ''}` : ''}${delay}`;
}

interface TaskCall {
  name: 'TaskCreate' | 'TaskUpdate';
  subject?: string;
  taskId?: string;
  status?: string;
}

export class ClaudeStreamParser extends JsonlStreamParser {
  private readonly open = new Map<string, { kind: string; title: string }>();
  private readonly todoIds = new Set<string>();
  private readonly taskCalls = new Map<string, TaskCall>();
  /** Claude Code's task list (TaskCreate/TaskUpdate), in creation order: the session plan. */
  private readonly tasks = new Map<string, { content: string; status: string }>();
  private lastText = '';

  private taskCall(id: string, name: 'TaskCreate' | 'TaskUpdate', input: unknown): PlanEvent | undefined {
    const i = isRecord(input) ? input : {};
    const call: TaskCall = { name };
    if (typeof i.subject === 'string') call.subject = i.subject;
    if (typeof i.taskId === 'string') call.taskId = i.taskId;
    if (typeof i.status === 'string') call.status = i.status;
    this.taskCalls.set(id, call);
    return undefined; // the plan changes when the tool result confirms the call
  }

  private taskResult(call: TaskCall, isError: boolean, text: string, structured: unknown): PlanEvent | undefined {
    if (isError) return undefined;
    if (call.name === 'TaskCreate') {
      const task = isRecord(structured) && isRecord(structured.task) ? structured.task : undefined;
      const id = typeof task?.id === 'string' ? task.id : /^Task #(\S+) created/.exec(text)?.[1];
      const subject = typeof task?.subject === 'string' ? task.subject : call.subject;
      if (!id || !subject) return undefined;
      this.tasks.set(id, { content: subject, status: 'pending' });
    } else {
      const task = call.taskId ? this.tasks.get(call.taskId) : undefined;
      if (!task || !call.taskId) return undefined;
      if (call.status === 'deleted') this.tasks.delete(call.taskId);
      else {
        if (call.status) task.status = call.status;
        if (call.subject) task.content = call.subject;
      }
    }
    return { type: 'plan', items: [...this.tasks.values()].map((t) => ({ content: t.content, status: mapTodoStatus(t.status) })) };
  }

  constructor(warn?: ConstructorParameters<typeof JsonlStreamParser>[1]) {
    super('claude', warn);
  }

  protected handle(obj: Record<string, unknown> & { type: string }): EngineEvent[] {
    switch (obj.type) {
      case 'system': {
        const line = systemLine.parse(obj);
        if (line.subtype === 'api_retry') return [this.apiRetry(describeApiRetry(obj))];
        if (line.subtype !== 'init') return [];
        return this.started(line.session_id);
      }
      case 'assistant':
        return this.assistant(messageLine.parse(obj));
      case 'user':
        return this.user(messageLine.parse(obj));
      case 'result':
        return this.result(resultLine.parse(obj));
      default:
        return []; // stream_event, rate-limit notices and whatever comes next
    }
  }

  private assistant(line: z.infer<typeof messageLine>): EngineEvent[] {
    const out: EngineEvent[] = [...this.started(line.session_id)];
    const content = line.message.content;
    if (typeof content === 'string') {
      if (content.trim()) {
        this.lastText = content;
        out.push({ type: 'thought', text: content });
      }
      return out;
    }
    for (const b of content ?? []) {
      if (b.type === 'text' && typeof b.text === 'string' && b.text.trim()) {
        this.lastText = b.text;
        out.push({ type: 'thought', text: b.text });
      } else if (b.type === 'thinking' && typeof b.thinking === 'string' && b.thinking.trim()) {
        out.push({ type: 'thought', text: b.thinking });
      } else if (b.type === 'tool_use' && typeof b.id === 'string' && typeof b.name === 'string') {
        if (b.name === 'TaskCreate' || b.name === 'TaskUpdate') {
          const plan = this.taskCall(b.id, b.name, b.input);
          if (plan) out.push(plan);
          continue;
        }
        if (b.name === 'TodoWrite') {
          this.todoIds.add(b.id);
          const todos = isRecord(b.input) && Array.isArray(b.input.todos) ? b.input.todos : [];
          const items = todos.flatMap((t) => {
            const parsed = todo.safeParse(t);
            return parsed.success ? [{ content: parsed.data.content, status: mapTodoStatus(parsed.data.status) }] : [];
          });
          out.push({ type: 'plan', items });
          continue;
        }
        const action: ActionEvent = {
          type: 'action',
          id: b.id,
          kind: claudeToolKind(b.name),
          title: claudeToolTitle(b.name, b.input),
          phase: 'started',
        };
        if (b.input !== undefined) action.detail = head(JSON.stringify(b.input), 1000);
        this.open.set(b.id, { kind: action.kind, title: action.title });
        out.push(action);
      }
    }
    return out;
  }

  private user(line: z.infer<typeof messageLine>): EngineEvent[] {
    const content = line.message.content;
    if (!Array.isArray(content)) return [];
    const out: EngineEvent[] = [];
    for (const b of content) {
      if (b.type !== 'tool_result' || typeof b.tool_use_id !== 'string') continue;
      if (this.todoIds.has(b.tool_use_id)) continue; // the plan was already sent
      const pending = this.taskCalls.get(b.tool_use_id);
      if (pending) {
        this.taskCalls.delete(b.tool_use_id);
        const plan = this.taskResult(pending, b.is_error === true, resultText(b.content), (line as Record<string, unknown>).tool_use_result);
        if (plan) out.push(plan);
        continue;
      }
      const known = this.open.get(b.tool_use_id);
      this.open.delete(b.tool_use_id);
      const action: ActionEvent = {
        type: 'action',
        id: b.tool_use_id,
        kind: known?.kind ?? 'tool',
        title: known?.title ?? 'tool',
        phase: 'completed',
        ok: b.is_error !== true,
      };
      const text = resultText(b.content);
      if (text) action.detail = tail(text);
      if (b.is_error === true && DENIED.test(text)) this.limitation(`${action.title}: ${text}`);
      out.push(action);
    }
    return out;
  }

  private result(line: z.infer<typeof resultLine>): EngineEvent[] {
    const out = this.started(line.session_id);
    const ok = line.is_error !== true && (line.subtype === undefined || line.subtype === 'success');
    const usage: Record<string, unknown> = { ...(line.usage ?? {}) };
    if (line.total_cost_usd !== undefined) usage.total_cost_usd = line.total_cost_usd;
    if (line.num_turns !== undefined) usage.num_turns = line.num_turns;
    if (line.duration_ms !== undefined) usage.duration_ms = line.duration_ms;
    let error: string | undefined;
    if (!ok) {
      const errors = (line.errors ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
      const denied = (line.permission_denials ?? []).map((d) =>
        isRecord(d) && typeof d.tool_name === 'string' ? d.tool_name : JSON.stringify(d),
      );
      error =
        errors.join('; ') ||
        (line.result && line.result.trim()) ||
        (denied.length ? `permission denied for ${[...new Set(denied)].join(', ')}` : '') ||
        `claude finished with ${line.subtype ?? 'an error'}`;
      if (denied.length && errors.length) error += ` (permission denied for ${[...new Set(denied)].join(', ')})`;
    }
    // A run that finished while tools were refused did not do everything it was asked.
    for (const d of line.permission_denials ?? []) this.limitation(`permission denied: ${describeDenial(d)}`);
    out.push(
      this.complete({
        ok,
        answer: line.result ?? this.lastText,
        resumeToken: line.session_id,
        usage: Object.keys(usage).length ? usage : undefined,
        error,
      }),
    );
    return out;
  }
}
