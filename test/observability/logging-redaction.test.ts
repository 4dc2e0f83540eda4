import { Writable } from 'node:stream';
import { defaultConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { loggerFromConfig, sessionLogger } from '../../src/observability/logging';
import { SECRET_KEYS, SECRET_VALUES, allSecrets, nestedTable } from '../config/secret-cases';

function capture() {
  let buf = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { stream, raw: () => buf, lines: () => buf.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log redaction by pattern at any depth', () => {
  test('the whole secret table, nested in objects and arrays, never reaches a log line', () => {
    const out = capture();
    const log = loggerFromConfig({ ...defaultConfig().log, level: 'info' }, { destination: out.stream });
    log.info({ payload: nestedTable(), ...Object.fromEntries(SECRET_KEYS) }, 'request');
    const raw = out.raw();
    for (const s of allSecrets()) expect(raw).not.toContain(s);
    const [line] = out.lines();
    expect(line).toMatchObject({ msg: 'request', AWS_SECRET_ACCESS_KEY: '[redacted]', PGPASSWORD: '[redacted]' });
    expect((line!.payload as { visible: Record<string, unknown> }).visible).toMatchObject({ app_id: 'visible-app-id', input_tokens: 1234, key: 'ENG-123' });
  });

  test.each(SECRET_VALUES.map((c) => [c.name, c] as const))('%s in the message, an error or a child binding is masked', (_n, c) => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    log.info(`engine said: ${c.value}`);
    log.warn('interpolated %s', c.value);
    log.error(new Error(`failed with ${c.value}`));
    log.error({ err: Object.assign(new Error(`push failed: ${c.value}`), { stderr: c.value }) });
    log.child({ remote: c.value }).info('child');
    const raw = out.raw();
    expect(raw).not.toContain(c.secret);
    const lines = out.lines();
    expect(lines).toHaveLength(5);
    expect(lines[2]!.err).toMatchObject({ type: 'Error' });
    expect(lines[4]!.msg).toBe('child');
    if (c.kept) expect(raw).toContain(JSON.stringify(c.kept).slice(1, -1));
  });

  test('values known from the configuration and environment are hidden in free text', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream, secrets: ['plain-looking-db-pass-42'] });
    log.info({ note: 'connect with plain-looking-db-pass-42' }, 'using plain-looking-db-pass-42');
    expect(out.raw()).not.toContain('plain-looking-db-pass-42');
    expect(out.lines()[0]).toMatchObject({ note: 'connect with [redacted]', msg: 'using [redacted]' });
  });

  test('session fields stay readable and cyclic or huge objects do not break a line', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    const cyclic: Record<string, unknown> = { token: 'Qx7cyclic-secret' };
    cyclic.self = cyclic;
    sessionLogger(log, { issueIdentifier: 'AV-1', agentSessionId: 'sess-1', workflowId: 'kai-issue-1' }).info({ cyclic }, 'x');
    const big = { items: Array.from({ length: 20_000 }, (_, i) => ({ i, password: `Qx7big${i}` })) };
    log.info(big, 'big');
    expect(out.raw()).not.toMatch(/Qx7/);
    const [first, second] = out.lines();
    expect(first).toMatchObject({ issue: 'AV-1', agentSessionId: 'sess-1', workflowId: 'kai-issue-1', cyclic: { token: '[redacted]', self: '[Circular]' } });
    expect(second!.msg).toBe('big');
  });
});
