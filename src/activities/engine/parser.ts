// The shape every engine stream parser has: one raw stdout line in, normalized events out.
// Parsers are pure state machines (no I/O), shared by the engine runner and `kai engine parse`.
import type { EngineEvent } from './events';

export type CompletedEvent = Extract<EngineEvent, { type: 'completed' }>;
export type ActionEvent = Extract<EngineEvent, { type: 'action' }>;
export type PlanEvent = Extract<EngineEvent, { type: 'plan' }>;

/** How the process (or the recorded stream) ended. */
export interface StreamEnd {
  exitCode: number | null;
  signal?: NodeJS.Signals | null;
  /** Last bytes of stderr, for the failure message. */
  stderrTail?: string;
  /** True when reading a recorded stream: there was no process. */
  recorded?: boolean;
}

export interface EngineStreamParser {
  /** Events to emit before the first line (the script engine announces itself). */
  begin(): EngineEvent[];
  /** Events for one stdout line. Never throws: unknown types give [], broken lines are reported. */
  line(raw: string): EngineEvent[];
  /** Called once when the stream ends: a failed completion when the engine never sent one. */
  finish(end: StreamEnd): EngineEvent[];
  /** The resume token seen so far. */
  readonly resumeToken: string | undefined;
  /** How many times the engine reported it had to retry or reconnect to its model API. */
  readonly apiRetries?: number;
}

export type LineWarning = (message: string, detail: { line: string; reason: string }) => void;

const MAX_DETAIL = 2000;

/** The last `max` characters of a long text (command output: the end matters most). */
export function tail(text: string, max = MAX_DETAIL): string {
  if (text.length <= max) return text;
  return `…${text.slice(text.length - max + 1)}`;
}

/** The first `max` characters of a long text. */
export function head(text: string, max = MAX_DETAIL): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

/** One-line form of a value for a title: strings as they are, anything else as compact JSON. */
export function oneLine(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  return head(text.replace(/\s+/g, ' ').trim(), max);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Base for JSONL engines: parses each line as a JSON object and hands it to `handle`. */
export abstract class JsonlStreamParser implements EngineStreamParser {
  protected token: string | undefined;
  protected completed = false;
  private startedSent = false;
  private retries = 0;
  private readonly limits: string[] = [];

  constructor(
    readonly engine: string,
    private readonly warn: LineWarning = () => undefined,
  ) {}

  get resumeToken(): string | undefined {
    return this.token;
  }

  get apiRetries(): number {
    return this.retries;
  }

  /** The engine could not reach its model API and is retrying: a visible thought, counted. */
  protected apiRetry(text: string): EngineEvent {
    this.retries++;
    return { type: 'thought', text: stripAnsi(text) };
  }

  /** Something the engine was denied or could not do; the final answer will say so. */
  protected limitation(text: string): void {
    const t = oneLine(stripAnsi(text), 300);
    if (t && !this.limits.includes(t)) this.limits.push(t);
  }

  begin(): EngineEvent[] {
    return [];
  }

  line(raw: string): EngineEvent[] {
    const text = raw.trim();
    // The run's outcome is decided: whatever the engine prints after it is not progress.
    if (!text || this.completed) return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.warn(`${this.engine}: skipped a line that is not JSON`, { line: head(text, 300), reason: String(err) });
      return [];
    }
    if (!isRecord(value) || typeof value.type !== 'string') {
      this.warn(`${this.engine}: skipped a line without a "type"`, { line: head(text, 300), reason: 'no type' });
      return [];
    }
    try {
      return this.handle(value as Record<string, unknown> & { type: string });
    } catch (err) {
      this.warn(`${this.engine}: skipped a line kai could not read`, { line: head(text, 300), reason: String(err) });
      return [];
    }
  }

  finish(end: StreamEnd): EngineEvent[] {
    if (this.completed) return [];
    const extra = this.finishWithoutCompletion(end);
    if (extra) return [this.complete(extra)];
    return [this.complete({ ok: false, answer: '', error: describeEarlyEnd(this.engine, end) })];
  }

  /** An engine whose clean exit counts as success without a completion line overrides this. */
  protected finishWithoutCompletion(_end: StreamEnd): Omit<CompletedEvent, 'type'> | undefined {
    return undefined;
  }

  protected handleWarning(message: string, line: string): void {
    this.warn(`${this.engine}: ${message}`, { line: head(line, 300), reason: message });
  }

  /** `started` once, as soon as the resume token is known. */
  protected started(token: string | undefined): EngineEvent[] {
    if (token) this.token = token;
    if (this.startedSent) return [];
    this.startedSent = true;
    return [{ type: 'started', resumeToken: this.token }];
  }

  protected complete(c: Omit<CompletedEvent, 'type'>): CompletedEvent {
    this.completed = true;
    const event: CompletedEvent = { type: 'completed', ok: c.ok, answer: c.answer };
    const resumeToken = c.resumeToken ?? this.token;
    if (resumeToken) event.resumeToken = resumeToken;
    if (c.usage) event.usage = c.usage;
    if (c.error) event.error = stripAnsi(c.error);
    const limitations = [...this.limits, ...(c.limitations ?? [])];
    if (limitations.length) event.limitations = [...new Set(limitations)];
    return event;
  }

  protected abstract handle(obj: Record<string, unknown> & { type: string }): EngineEvent[];
}

export function describeEarlyEnd(engine: string, end: StreamEnd): string {
  const how = end.recorded
    ? 'the recorded stream ended'
    : end.signal
      ? `${engine} was killed by ${end.signal}`
      : `${engine} exited with code ${end.exitCode ?? 'unknown'}`;
  const stderr = end.stderrTail?.trim();
  return `${how} without a final result${stderr ? `. stderr: ${tail(stderr, 1500)}` : ''}`;
}

// CSI and OSC escape sequences (colours, cursor moves, hyperlinks) and other lone escapes.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;

/** Text without terminal escape codes (engines colour their errors; Linear shows them raw). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
