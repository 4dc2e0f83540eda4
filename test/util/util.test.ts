// The shared helpers: one timeout, one sleep, one error text, one way to run a short command.
import { errorText, runCommand, sleep, TimeoutError, withTimeout } from '../../src/util';

describe('withTimeout', () => {
  test('settles like the promise when it settles first', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000)).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused');
  });

  test('rejects with a TimeoutError naming what got no answer', async () => {
    const never = new Promise<never>(() => undefined);
    const err = await withTimeout(never, 20, { what: 'the viewer query' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('the viewer query: no answer within 20 ms');
    await expect(withTimeout(never, 1500)).rejects.toThrow(/^no answer within 1\.5 s$/);
    await expect(withTimeout(never, 10, { error: () => new Error('Temporal did not accept the signal') })).rejects.toThrow('Temporal did not accept the signal');
  });

  test('hands a value that arrives after the timeout to `late`, and swallows a late rejection', async () => {
    let resolveLate!: (v: string) => void;
    const late = jest.fn();
    const slow = new Promise<string>((r) => (resolveLate = r));
    await expect(withTimeout(slow, 10, { late })).rejects.toBeInstanceOf(TimeoutError);
    resolveLate('connection');
    await slow;
    await sleep(0);
    expect(late).toHaveBeenCalledWith('connection');

    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      let rejectLate!: (e: Error) => void;
      const failing = new Promise<never>((_, r) => (rejectLate = r));
      await expect(withTimeout(failing, 10)).rejects.toBeInstanceOf(TimeoutError);
      rejectLate(new Error('too late'));
      await sleep(10);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('errorText', () => {
  test('is the message of an Error, the text of anything else', () => {
    expect(errorText(new Error('ECONNREFUSED 127.0.0.1:5432'))).toBe('ECONNREFUSED 127.0.0.1:5432');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(404)).toBe('404');
    expect(errorText(undefined)).toBe('undefined');
  });

  test('keeps only the first line and caps the length when asked', () => {
    const err = new Error(`first line\n    at stack (file.ts:1:1)`);
    expect(errorText(err, { firstLine: true })).toBe('first line');
    expect(errorText('x'.repeat(500), { maxChars: 300 })).toHaveLength(300);
  });
});

describe('runCommand', () => {
  const env = { PATH: process.env.PATH };

  test('gives the exit status and both streams', async () => {
    expect(await runCommand('/bin/sh', ['-c', 'echo out; echo err >&2'], { ms: 5000, env })).toEqual({ ok: true, code: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(await runCommand('/bin/sh', ['-c', 'exit 3'], { ms: 5000, env })).toMatchObject({ ok: false, code: 3, problem: 'exit status 3' });
  });

  test('a program that cannot start says why', async () => {
    expect(await runCommand('/nonexistent/kai-test-binary', [], { ms: 5000, env })).toMatchObject({ ok: false, code: null, problem: expect.stringContaining('ENOENT') });
  });

  test('a program that hangs is killed after the time given, and says so', async () => {
    const r = await runCommand('/bin/sh', ['-c', 'sleep 30 & sleep 30'], { ms: 300, env });
    expect(r).toMatchObject({ ok: false, code: null, problem: 'no answer within 0.3 s' });
  });
});
