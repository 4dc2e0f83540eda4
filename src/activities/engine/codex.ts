// Codex CLI `codex exec --json`: thread.started (the resume token), turn.* and item.* events
// whose `item.type` says what happened. The last agent_message is the answer.
import { z } from 'zod';
import type { EngineEvent } from './events';
import { JsonlStreamParser, isRecord, oneLine, stripAnsi, tail, type ActionEvent, type PlanEvent } from './parser';

const READ_ONLY = /read-only file system|EROFS|operation not permitted|permission denied/i;

const itemSchema = z.looseObject({ id: z.string().optional(), type: z.string() });
const itemLine = z.looseObject({ item: itemSchema });
const threadStarted = z.looseObject({ thread_id: z.string() });
const turnCompleted = z.looseObject({ usage: z.record(z.string(), z.unknown()).optional() });
const turnFailed = z.looseObject({ error: z.looseObject({ message: z.string().optional() }).optional() });
const errorLine = z.looseObject({ message: z.string().optional() });

type Item = z.infer<typeof itemSchema>;
type Phase = ActionEvent['phase'];

const PHASES: Record<string, Phase> = {
  'item.started': 'started',
  'item.updated': 'updated',
  'item.completed': 'completed',
};

/** `bash -lc 'npm test'` -> `npm test`: the wrapper Codex puts around every command. */
export function unwrapShell(command: string): string {
  const m = /^(?:\/\S*\/)?(?:ba|z)?sh -l?c (['"])([\s\S]*)\1$/.exec(command.trim());
  return m ? m[2]! : command;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export class CodexStreamParser extends JsonlStreamParser {
  private lastMessage = '';
  private finalAnswer: string | undefined;
  private lastError: string | undefined;
  private seq = 0;

  constructor(warn?: ConstructorParameters<typeof JsonlStreamParser>[1]) {
    super('codex', warn);
  }

  protected handle(obj: Record<string, unknown> & { type: string }): EngineEvent[] {
    switch (obj.type) {
      case 'thread.started':
        return this.started(threadStarted.parse(obj).thread_id);
      case 'turn.started':
        return [];
      case 'turn.completed': {
        const line = turnCompleted.parse(obj);
        return [
          ...this.started(undefined),
          this.complete({ ok: true, answer: this.lastMessage, usage: line.usage }),
        ];
      }
      case 'turn.failed': {
        const line = turnFailed.parse(obj);
        const error = line.error?.message || this.lastError || 'the turn failed';
        return [...this.started(undefined), this.complete({ ok: false, answer: this.lastMessage, error })];
      }
      case 'error': {
        // Stream errors (often retried by Codex itself); the turn's end decides the outcome.
        const message = stripAnsi(errorLine.parse(obj).message ?? 'error');
        this.lastError = message;
        // "Reconnecting... 2/5 (stream disconnected before completion: ...)": the API is out of reach.
        if (/^reconnecting/i.test(message)) return [this.apiRetry(`Codex could not reach its model API: ${message}`)];
        return [{ type: 'thought', text: `Error: ${message}` }];
      }
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return this.item(PHASES[obj.type]!, itemLine.parse(obj).item);
      default:
        return [];
    }
  }

  private item(phase: Phase, item: Item): EngineEvent[] {
    const id = item.id ?? `item_${this.seq++}`;
    switch (item.type) {
      case 'agent_message': {
        const text = str(item.text);
        if (!text?.trim()) return [];
        if (phase === 'completed') {
          // Newer Codex tags its messages: the final_answer one is the answer, commentary is interim.
          if (item.phase === 'final_answer') this.finalAnswer = text;
          this.lastMessage = this.finalAnswer ?? text;
        }
        return phase === 'completed' ? [{ type: 'thought', text }] : [];
      }
      case 'reasoning': {
        const text = str(item.text);
        return text?.trim() && phase === 'completed' ? [{ type: 'thought', text }] : [];
      }
      case 'command_execution': {
        const status = str(item.status);
        const exit = typeof item.exit_code === 'number' ? item.exit_code : undefined;
        const action: ActionEvent = {
          type: 'action',
          id,
          kind: 'command',
          title: oneLine(unwrapShell(str(item.command) ?? 'command')),
          phase,
        };
        const output = str(item.aggregated_output);
        if (output) action.detail = tail(output);
        if (phase === 'completed') action.ok = status !== 'failed' && status !== 'declined' && (exit ?? 0) === 0;
        if (phase === 'completed' && status === 'declined') this.limitation(`command declined: ${action.title}`);
        if (phase === 'completed' && output && READ_ONLY.test(output)) this.limitation(`read-only sandbox: ${action.title}: ${READ_ONLY.exec(output)![0]}`);
        return [action];
      }
      case 'file_change': {
        const changes = Array.isArray(item.changes) ? item.changes.filter(isRecord) : [];
        const lines = changes.map((c) => `${str(c.kind) ?? 'update'} ${str(c.path) ?? '?'}`);
        const action: ActionEvent = {
          type: 'action',
          id,
          kind: 'file_change',
          title: lines.length === 1 ? lines[0]! : `${lines.length} files changed`,
          phase,
        };
        if (lines.length) action.detail = lines.join('\n');
        if (phase === 'completed') action.ok = str(item.status) !== 'failed';
        if (phase === 'completed' && !action.ok) this.limitation(`file change failed: ${action.title}`);
        return [action];
      }
      case 'mcp_tool_call': {
        const error = isRecord(item.error) ? str(item.error.message) : undefined;
        const action: ActionEvent = {
          type: 'action',
          id,
          kind: 'mcp',
          title: `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? 'tool'}`,
          phase,
        };
        if (error) action.detail = error;
        else if (item.result !== undefined && item.result !== null) action.detail = tail(mcpResultText(item.result));
        else if (item.arguments !== undefined && item.arguments !== null) action.detail = oneLine(item.arguments, 1000);
        if (phase === 'completed') action.ok = !error && str(item.status) !== 'failed';
        return [action];
      }
      case 'web_search': {
        const action: ActionEvent = { type: 'action', id, kind: 'web_search', title: oneLine(str(item.query) ?? 'web search'), phase };
        if (phase === 'completed') action.ok = true;
        return [action];
      }
      case 'collab_tool_call': {
        // Codex's multi-agent tools (spawn_agent, send_input, wait, close_agent).
        const tool = str(item.tool) ?? 'agent';
        const prompt = str(item.prompt);
        const action: ActionEvent = { type: 'action', id, kind: 'tool', title: `${tool}${prompt ? ` ${oneLine(prompt, 160)}` : ''}`, phase };
        const receivers = Array.isArray(item.receiver_thread_ids) ? item.receiver_thread_ids.filter((r) => typeof r === 'string') : [];
        if (receivers.length) action.detail = `agents: ${receivers.join(', ')}`;
        if (phase === 'completed') action.ok = str(item.status) !== 'failed';
        return [action];
      }
      case 'todo_list':
        return [this.plan(item)];
      case 'error': {
        const message = str(item.message);
        return message ? [{ type: 'thought', text: `Warning: ${message}` }] : [];
      }
      default:
        return [];
    }
  }

  private plan(item: Item): PlanEvent {
    const raw = Array.isArray(item.items) ? item.items.filter(isRecord) : [];
    let current = false;
    const items = raw.map((t) => {
      const content = str(t.text) ?? '';
      if (t.completed === true) return { content, status: 'completed' as const };
      // Codex marks only done/not done; the first open step is the one being worked on.
      const status = current ? ('pending' as const) : ('inProgress' as const);
      current = true;
      return { content, status };
    });
    return { type: 'plan', items };
  }
}

function mcpResultText(result: unknown): string {
  if (isRecord(result) && Array.isArray(result.content)) {
    const texts = result.content.filter(isRecord).map((c) => (typeof c.text === 'string' ? c.text : '')).filter(Boolean);
    if (texts.length) return texts.join('\n');
  }
  return JSON.stringify(result);
}
