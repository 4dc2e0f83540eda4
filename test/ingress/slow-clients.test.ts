// Slow and greedy clients on both ingress servers (webhook and gateway): a slow-loris client
// that never finishes its headers, one that trickles its body, and more connections than the
// cap are all cut off; /metrics and /readyz answer loopback peers only unless configured.
// Each test waits for the fact (the socket closed), never for a time; Node's own defaults
// (checked every 30 s) held such clients for 27-37 s, past these tests' timeout.
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Pool } from 'pg';
import { startGatewayServer } from '../../src/ingest';
import type { ServerLimits, RunningServer } from '../../src/ingress/http';
import { startOpsServer } from '../../src/observability/http';
import { startWebhookServer } from '../../src/webhook';
import { RecordingSink, SECRET, silentLogger } from '../webhook/helpers';

jest.setTimeout(15_000);
const PATH = '/webhooks/linear';

const deadPool = () => {
  const p = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 200 });
  p.on('error', () => undefined);
  return p;
};

const servers: Record<string, (limits: ServerLimits, extra?: { exposeOps?: boolean; host?: string }) => Promise<RunningServer>> = {
  webhook: (limits, extra = {}) =>
    startWebhookServer({ secret: SECRET, sessions: new RecordingSink(), logger: silentLogger(), appUserId: 'app-user-kai', limits, exposeOps: extra.exposeOps }, { host: extra.host ?? '127.0.0.1', port: 0 }),
  gateway: (limits, extra = {}) =>
    startGatewayServer({ pool: deadPool(), secret: SECRET, logger: silentLogger(), limits, exposeOps: extra.exposeOps }, { host: extra.host ?? '127.0.0.1', port: 0 }),
};

function open(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves when the server closes the socket; collects what it answered. */
function closed(s: Socket): Promise<string> {
  let reply = '';
  s.on('data', (d) => (reply += d.toString('latin1')));
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(reply);
    s.on('close', () => resolve(reply));
    s.on('error', () => undefined);
  });
}

/** Writes one byte every `ms` until the socket closes. */
function trickle(s: Socket, byte: string, ms: number): () => void {
  const t = setInterval(() => {
    if (!s.destroyed && s.writable) s.write(byte);
  }, ms);
  s.on('close', () => clearInterval(t));
  return () => clearInterval(t);
}

describe.each(Object.keys(servers))('%s server', (name) => {
  const start = servers[name]!;

  test('a slow-loris client that never finishes its headers is cut off', async () => {
    const server = await start({ headersTimeoutMs: 400, requestTimeoutMs: 800 });
    try {
      const s = await open(server.url);
      const done = closed(s);
      s.write(`POST ${PATH} HTTP/1.1\r\nHost: kai\r\nX-Slow: `);
      trickle(s, 'a', 50);
      const reply = await done;
      if (reply) expect(reply).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });

  test('a client that trickles its body is cut off', async () => {
    const server = await start({ headersTimeoutMs: 400, requestTimeoutMs: 800 });
    try {
      const s = await open(server.url);
      const done = closed(s);
      s.write(`POST ${PATH} HTTP/1.1\r\nHost: kai\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nLinear-Signature: x\r\nLinear-Delivery: d\r\n\r\n{"a":`);
      trickle(s, ' ', 50);
      const reply = await done;
      if (reply) expect(reply).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });

  test('connections past the cap are closed at once; those within it stay open', async () => {
    const server = await start({ headersTimeoutMs: 10_000, requestTimeoutMs: 10_000, maxConnections: 3 });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = await open(server.url);
        s.write(`POST ${PATH} HTTP/1.1\r\nHost: kai\r\n`);
        held.push(s);
      }
      await new Promise<void>(function check(resolve) {
        server.server.getConnections((_e, n) => (n === 3 ? resolve() : setTimeout(() => check(resolve), 10)));
      });
      const extra = await open(server.url);
      await closed(extra);
      expect(held.every((s) => !s.destroyed)).toBe(true);
    } finally {
      held.forEach((s) => s.destroy());
      await server.close();
    }
  });

  test('/metrics and /readyz answer loopback; other peers only when configured', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const closedOps = await start({}, { host: '0.0.0.0' });
    const openOps = await start({}, { host: '0.0.0.0', exposeOps: true });
    try {
      const port = (s: RunningServer) => new URL(s.url).port;
      expect((await fetch(`http://127.0.0.1:${port(closedOps)}/metrics`)).status).toBe(200);
      if (external) {
        expect((await fetch(`http://${external}:${port(closedOps)}/metrics`)).status).toBe(404);
        expect((await fetch(`http://${external}:${port(closedOps)}/readyz`)).status).toBe(404);
        expect((await fetch(`http://${external}:${port(closedOps)}/healthz`)).status).toBe(200);
        expect((await fetch(`http://${external}:${port(openOps)}/metrics`)).status).toBe(200);
      }
    } finally {
      await closedOps.close();
      await openOps.close();
    }
  });
});

test('the ops server of the worker and ingester listens on loopback by default', async () => {
  const ops = await startOpsServer({ port: 0 });
  try {
    expect(new URL(ops.url).hostname).toBe('127.0.0.1');
  } finally {
    await ops.close();
  }
});
