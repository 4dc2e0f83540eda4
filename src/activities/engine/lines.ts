// Splits an engine's stdout into lines with a bound on each: a line longer than `maxBytes` keeps
// its first `maxBytes` bytes and the rest is skipped up to the next newline, so one huge line
// (hundreds of MB without a newline) costs bounded memory and is reported, never fatal.
import type { Readable } from 'node:stream';

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface LineInfo {
  /** Bytes the line really had (more than its text when it was cut). */
  bytes: number;
  truncated: boolean;
}

export class BoundedLineSplitter {
  private pieces: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(
    private readonly onLine: (line: string, info: LineInfo) => void,
    private readonly maxBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.keep(chunk, start, end);
      if (nl === -1) break;
      this.flush();
      start = nl + 1;
    }
  }

  /** The last line when the stream ends without a newline. */
  end(): void {
    if (this.total > 0 || this.pieces.length > 0) this.flush();
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    const len = end - start;
    this.total += len;
    const room = this.maxBytes - this.kept;
    if (room <= 0 || len === 0) return;
    const take = Math.min(room, len);
    // A copy: the piece must not pin the whole chunk it came from.
    this.pieces.push(Buffer.from(chunk.subarray(start, start + take)));
    this.kept += take;
  }

  private flush(): void {
    const buf = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.kept);
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const info = { bytes: this.total, truncated: this.total > this.kept };
    this.pieces = [];
    this.kept = 0;
    this.total = 0;
    this.onLine(text, info);
  }
}

/** Feeds a stream through a splitter; resolves when the stream has ended or closed. */
export function readBoundedLines(input: Readable, onLine: (line: string, info: LineInfo) => void, maxBytes?: number): Promise<void> {
  const splitter = new BoundedLineSplitter(onLine, maxBytes);
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      splitter.end();
      resolve();
    };
    input.on('data', (chunk: Buffer) => {
      if (!done) splitter.push(chunk);
    });
    input.once('end', finish);
    input.once('close', finish);
    input.once('error', finish);
  });
}
