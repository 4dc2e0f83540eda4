// Huge engine output costs bounded memory: one stdout line of 600 MB (streamed by a child, never
// held) is cut and noted, the run goes on; the script parser keeps a bounded tail of its output.
import type { EngineEvent } from '../../../src/activities/engine/events';
import { BoundedLineSplitter, type LineInfo } from '../../../src/activities/engine/lines';
import { runEngineStream } from '../../../src/activities/engine/run-stream';
import { ScriptStreamParser } from '../../../src/activities/engine/script';
import { tempDir } from './helpers';

jest.setTimeout(120_000);

function split(chunks: Array<string | Buffer>, max?: number): Array<[string, LineInfo]> {
  const out: Array<[string, LineInfo]> = [];
  const s = new BoundedLineSplitter((line, info) => out.push([line, info]), max);
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end();
  return out;
}

describe('BoundedLineSplitter', () => {
  it('splits lines across chunks, drops a CR before LF and keeps a last line without newline', () => {
    expect(split(['{"a":', '1}\r\n{"b"', ':2}\n', 'tail'])).toEqual([
      ['{"a":1}', { bytes: 8, truncated: false }],
      ['{"b":2}', { bytes: 7, truncated: false }],
      ['tail', { bytes: 4, truncated: false }],
    ]);
    expect(split(['\n\n'])).toEqual([
      ['', { bytes: 0, truncated: false }],
      ['', { bytes: 0, truncated: false }],
    ]);
  });

  it('keeps the first bytes of an over-long line, skips the rest to the newline and says how long it was', () => {
    const lines = split(['abcdef', 'ghij', 'klm\nnext\n'], 5);
    expect(lines).toEqual([
      ['abcde', { bytes: 13, truncated: true }],
      ['next', { bytes: 4, truncated: false }],
    ]);
  });

  it('keeps multi-byte characters whole across chunk boundaries', () => {
    const bytes = Buffer.from('héllo wörld\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)])).toEqual([['héllo wörld', { bytes: 13, truncated: false }]]);
  });
});

describe('a 600 MB stdout line', () => {
  it('is cut and noted, never fatal, and the run still reads the lines after it', async () => {
    const tmp = tempDir('kai-output-');
    try {
      const size = 600 * 1024 * 1024;
      // The child streams the line: 600 MB of "a" without a newline, then a normal completion.
      const command = `head -c ${size} /dev/zero | tr '\\000' a; echo; echo '{"type":"thought","text":"still here"}'; echo '{"type":"completed","ok":true,"answer":"after the long line"}'`;
      const events: EngineEvent[] = [];
      let peakRss = 0;
      const before = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
      const outcome = await runEngineStream({
        spec: { command: '/bin/sh', args: ['-c', command], cwd: tmp.dir, env: { PATH: process.env.PATH } },
        parser: new ScriptStreamParser(command, undefined),
        emit: (e) => events.push(e),
        maxLineBytes: 4 * 1024 * 1024,
      }).finally(() => clearInterval(sampler));
      expect(outcome.completion).toMatchObject({ ok: true, answer: 'after the long line' });
      expect(events).toContainEqual({ type: 'thought', text: 'The engine wrote one output line of 600 MiB; kai kept its first 4.0 MiB.' });
      expect(events).toContainEqual({ type: 'thought', text: 'still here' });
      // What the run kept is bounded: the action's detail is the tail of the output, not 600 MB.
      const detail = events.find((e) => e.type === 'action' && e.phase === 'completed') as Extract<EngineEvent, { type: 'action' }>;
      expect(detail.detail!.length).toBeLessThanOrEqual(2000);
      // Measured: the worker's memory grows by far less than the line (a few chunks and one cut line).
      expect(peakRss - before).toBeLessThan(256 * 1024 * 1024);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the script parser', () => {
  it('keeps a bounded tail of its output, however many long lines the command prints', () => {
    const parser = new ScriptStreamParser('yes', undefined);
    const line = 'x'.repeat(100_000);
    for (let i = 0; i < 2000; i++) parser.line(`${i} ${line}`); // 200 MB of output in all
    parser.line('the last words');
    const kept = (parser as unknown as { output: string }).output;
    expect(kept.length).toBeLessThanOrEqual(2 * 16 * 1024);
    const [action, completion] = parser.finish({ exitCode: 0, signal: null });
    expect(completion).toMatchObject({ type: 'completed', ok: true });
    expect((completion as { answer: string }).answer.endsWith('x\nthe last words')).toBe(true);
    expect((action as { detail?: string }).detail!.length).toBeLessThanOrEqual(2000);
  });

  it('reads a line of whitespace followed by a character in linear time (no backtracking trim)', () => {
    const parser = new ScriptStreamParser('spaces', undefined);
    parser.line(`${' '.repeat(5_000_000)}x`);
    const [, completion] = parser.finish({ exitCode: 0, signal: null });
    expect((completion as { answer: string }).answer.endsWith('x')).toBe(true);
  });
});
