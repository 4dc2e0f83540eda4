// The text of an error, for logs, results and messages to the user.

export interface ErrorTextOptions {
  /** Only the first line (a stack or a multi-line server answer stays out). */
  firstLine?: boolean;
  /** Cap on the length. */
  maxChars?: number;
}

export function errorText(err: unknown, opts: ErrorTextOptions = {}): string {
  let text = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err);
  if (opts.firstLine) text = text.split('\n')[0]!;
  if (opts.maxChars !== undefined && text.length > opts.maxChars) text = text.slice(0, opts.maxChars);
  return text;
}
