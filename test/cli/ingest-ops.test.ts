// `kai ingest` serves /metrics, /healthz and /readyz from the command, as `kai worker` does: ready
// while the events table's database answers, and it stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { migrate } from '../../src/ingest';
import { temporalAddress } from '../harness/temporal';
import { createTestDatabase, type TestDatabase } from '../ingest/pg';

const ROOT = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`${url}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

describe('kai ingest', () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
  });

  test('serves /readyz and /metrics on --metrics-port, ready once its database answers, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, ['-r', './scripts/ts-register.js', 'bin/kai.js', 'ingest', '--metrics-port', String(port)], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress(), KAI_CONFIG: '', KAI_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));

    let ready: Awaited<ReturnType<typeof readyz>>;
    for (;;) {
      ready = await readyz(url);
      if (ready?.status === 200) break;
      if (proc.exitCode !== null) throw new Error(`kai ingest exited (${proc.exitCode}) before it was ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready!.body).toMatchObject({ ready: true, database: 'ok' });
    expect(typeof ready!.body.listening).toBe('boolean');
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);
    expect(output).toContain('kai ingest running');

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await readyz(url)).toBeUndefined();
  });
});
