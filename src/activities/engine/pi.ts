// pi (`pi --mode json`, npm @mariozechner/pi-coding-agent): JSONL of pi's session events. The
// first line is the session header (`{"type":"session","id":...}`: the resume token, used with
// `--session <id>`); then agent_start/turn_start, message_start/update/end (user, assistant and
// tool-result messages; an assistant message holds text, thinking and toolCall blocks, its
// usage and stopReason), tool_execution_start/update/end (paired by toolCallId), auto_retry_*
// and agent_end, the end of the run. pi has no plan or todo tool of its own (by design), so a
// pi run shows no plan. Shapes: packages/coding-agent/docs/json.md of badlogic/pi-mono.
import { z } from 'zod';
import type { EngineEvent } from './events';
import { JsonlStreamParser, isRecord, oneLine, tail, type ActionEvent, type CompletedEvent } from './parser';

const sessionLine = z.looseObject({ id: z.string() });
const messageLine = z.looseObject({ message: z.looseObject({ role: z.string().optional() }) });
const toolStart = z.looseObject({ toolCallId: z.string(), toolName: z.string(), args: z.unknown().optional() });
const toolEnd = z.looseObject({ toolCallId: z.string(), toolName: z.string().optional(), result: z.unknown().optional(), isError: z.boolean().optional() });
const retryStart = z.looseObject({ attempt: z.number().optional(), maxAttempts: z.number().optional(), errorMessage: z.string().optional() });
const retryEnd = z.looseObject({ success: z.boolean().optional(), finalError: z.string().optional() });

const KINDS: Record<string, string> = { bash: 'command', edit: 'file_change', write: 'file_change' };
const USAGE_KEYS = ['input', 'output', 'cacheRead', 'cacheWrite', 'totalTokens'] as const;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Text blocks of a message's content (a string or a list of typed blocks). */
function blocks(content: unknown, type: 'text' | 'thinking'): string {
  if (typeof content === 'string') return type === 'text' ? content : '';
  if (!Array.isArray(content)) return '';
  return content
    .filter(isRecord)
    .filter((b) => b.type === type)
    .map((b) => str(type === 'text' ? b.text : b.thinking) ?? '')
    .join('');
}

export class PiStreamParser extends JsonlStreamParser {
  private lastText = '';
  private lastStop: string | undefined;
  private lastError: string | undefined;
  private retryError: string | undefined;
  private usage: Record<string, number> = {};
  private tools = new Map<string, { title: string; kind: string }>();

  constructor(warn?: ConstructorParameters<typeof JsonlStreamParser>[1]) {
    super('pi', warn);
  }

  protected handle(obj: Record<string, unknown> & { type: string }): EngineEvent[] {
    switch (obj.type) {
      case 'session':
        return this.started(sessionLine.parse(obj).id);
      case 'message_end':
        return this.messageEnd(messageLine.parse(obj).message);
      case 'tool_execution_start':
        return this.toolStart(toolStart.parse(obj));
      case 'tool_execution_end':
        return this.toolEnd(toolEnd.parse(obj));
      case 'auto_retry_start': {
        const line = retryStart.parse(obj);
        this.retryError = line.errorMessage;
        const attempt = line.attempt !== undefined ? ` (attempt ${line.attempt}${line.maxAttempts ? ` of ${line.maxAttempts}` : ''})` : '';
        return [{ type: 'thought', text: `The model API failed${line.errorMessage ? `: ${line.errorMessage}` : ''}; retrying${attempt}.` }];
      }
      case 'auto_retry_end': {
        const line = retryEnd.parse(obj);
        if (line.success === false) this.lastError = line.finalError ?? this.retryError;
        return [];
      }
      case 'agent_end':
        return [...this.started(undefined), this.complete(this.outcome())];
      default:
        return [];
    }
  }

  private messageEnd(message: Record<string, unknown>): EngineEvent[] {
    if (message.role !== 'assistant') return [];
    const out: EngineEvent[] = [];
    const thinking = blocks(message.content, 'thinking').trim();
    if (thinking) out.push({ type: 'thought', text: thinking });
    const text = blocks(message.content, 'text').trim();
    if (text) this.lastText = text;
    this.lastStop = str(message.stopReason);
    if (this.lastStop === 'error') this.lastError = str(message.errorMessage) ?? 'the model API returned an error';
    const hasToolCall = Array.isArray(message.content) && message.content.some((b) => isRecord(b) && b.type === 'toolCall');
    // Text said on the way to a tool call is progress; the last text is the answer.
    if (text && hasToolCall) out.push({ type: 'thought', text });
    this.addUsage(message.usage);
    return out;
  }

  private addUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    for (const key of USAGE_KEYS) if (typeof usage[key] === 'number') this.usage[key] = (this.usage[key] ?? 0) + usage[key];
    if (isRecord(usage.cost) && typeof usage.cost.total === 'number') this.usage.costTotal = (this.usage.costTotal ?? 0) + usage.cost.total;
  }

  private toolStart(line: z.infer<typeof toolStart>): EngineEvent[] {
    const args = isRecord(line.args) ? line.args : {};
    const kind = KINDS[line.toolName] ?? 'tool';
    const subject = str(args.command) ?? str(args.path) ?? str(args.file_path) ?? str(args.pattern);
    const title = kind === 'command' ? oneLine(subject ?? 'bash') : subject ? `${line.toolName} ${oneLine(subject)}` : line.toolName;
    this.tools.set(line.toolCallId, { title, kind });
    return [{ type: 'action', id: line.toolCallId, kind, title, phase: 'started' }];
  }

  private toolEnd(line: z.infer<typeof toolEnd>): EngineEvent[] {
    const tool = this.tools.get(line.toolCallId) ?? { title: line.toolName ?? 'tool', kind: KINDS[line.toolName ?? ''] ?? 'tool' };
    this.tools.delete(line.toolCallId);
    const action: ActionEvent = { type: 'action', id: line.toolCallId, kind: tool.kind, title: tool.title, phase: 'completed', ok: line.isError !== true };
    const result = line.result;
    const detail = isRecord(result) ? blocks(result.content, 'text') : typeof result === 'string' ? result : '';
    if (detail.trim()) action.detail = tail(detail.trim());
    return [action];
  }

  private outcome(): Omit<CompletedEvent, 'type'> {
    const usage = Object.keys(this.usage).length ? { ...this.usage } : undefined;
    const failed = this.lastStop === 'error' || this.lastStop === 'aborted' || (this.lastError !== undefined && !this.lastText);
    if (!failed) return { ok: true, answer: this.lastText, usage };
    const error = this.lastStop === 'aborted' ? 'the run was aborted' : (this.lastError ?? 'pi reported an error');
    return { ok: false, answer: this.lastText, usage, error };
  }
}
