// Bad webhook inputs: each gets the status the webhook server documents and signals nothing.
// (test/webhook/webhook.test.ts covers the basic refusals one by one; this is the wider corpus.)
import { connect } from 'node:net';
import { startWebhookServer, type StartedWebhookServer } from '../../src/webhook';
import { CORPUS_BODY_LIMIT, CORPUS_SECRET, HTTP_CASES, RAW_CASES } from '../fixtures/webhooks/bad-inputs';
import { RecordingSink, silentLogger } from '../webhook/helpers';

const PATH = '/webhooks/linear';
let server: StartedWebhookServer;
let sink: RecordingSink;

beforeAll(async () => {
  sink = new RecordingSink();
  server = await startWebhookServer(
    { secret: CORPUS_SECRET, sessions: sink, logger: silentLogger(), bodyLimitBytes: CORPUS_BODY_LIMIT, appUserId: 'app-user-kai' },
    { host: '127.0.0.1', port: 0 },
  );
});
afterAll(() => server.close());
afterEach(() => {
  expect(sink.sent).toHaveLength(0);
  expect(sink.running.size).toBe(0);
});

test.each(HTTP_CASES.map((c) => [c.name, c.status, c] as const))('%s: answered %i, nothing signalled', async (_name, status, c) => {
  const req = c.request();
  const method = req.method ?? 'POST';
  const res = await fetch(server.url + PATH, {
    method,
    headers: { 'Content-Type': 'application/json', ...req.headers },
    body: method === 'GET' ? undefined : req.raw,
  });
  await res.text();
  expect(res.status).toBe(status);
});

function sendRaw(text: string): Promise<number> {
  const { port, hostname } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let reply = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(reply);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`no HTTP status in ${JSON.stringify(reply.slice(0, 200))}`));
    });
    socket.write(text, 'latin1');
  });
}

test.each(RAW_CASES.map((c) => [c.name, c.status, c] as const))('header injection, %s: answered %i, nothing signalled', async (_name, status, c) => {
  const { host } = new URL(server.url);
  expect(await sendRaw(c.raw(PATH, host))).toBe(status);
});
