// A loopback model API for running the real engine CLIs in tests: Anthropic Messages (Claude
// Code), OpenAI Responses (Codex) and OpenAI-compatible chat completions (OpenCode), streaming
// like the real services. A scripted "model" drives each conversation: make a plan, write a
// file, run a command, then answer; a follow-up is answered from the history it was sent.
// Every request is recorded so tests can check what the CLI sent (e.g. turn 1's history on resume).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { nextStep, type Scenario, type ScenarioStep, type Transcript } from './script';
import { anthropicTranscript, streamAnthropic, anthropicMessage } from './anthropic';
import { responsesTranscript, streamResponses } from './responses';
import { chatTranscript, streamChat } from './chat';

export interface ModelApiOptions {
  scenario: Scenario;
  /** Required credential (x-api-key or Bearer); requests without it get a 401 like the real APIs. */
  apiKey?: string;
  /** Answer every request with this HTTP status (simulates an API that refuses or is down). */
  failStatus?: number;
  /** Close every connection without answering (an API out of reach). */
  dropConnections?: boolean;
  /** Accept model requests and never answer them (a run that keeps going until stopped). */
  hang?: boolean;
}

export interface ModelApiRequest {
  api: 'anthropic' | 'responses' | 'chat' | 'other';
  method: string;
  path: string;
  status: number;
  /** The parsed JSON body. */
  body: unknown;
  /** What the scripted model saw (the conversation flattened) and did. */
  transcript?: Transcript;
  step?: ScenarioStep['kind'];
}

export interface ModelApiEmulator {
  url: string;
  port: number;
  requests: ModelApiRequest[];
  options: ModelApiOptions;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function credential(req: IncomingMessage): string | undefined {
  const key = req.headers['x-api-key'];
  if (typeof key === 'string' && key) return key;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '');
  return undefined;
}

export async function startModelApi(options: ModelApiOptions): Promise<ModelApiEmulator> {
  const requests: ModelApiRequest[] = [];
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { type: 'api_error', message: String(err) } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: unknown = undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const api: ModelApiRequest['api'] = path.endsWith('/messages')
      ? 'anthropic'
      : path.endsWith('/responses')
        ? 'responses'
        : path.endsWith('/chat/completions')
          ? 'chat'
          : 'other';
    const record: ModelApiRequest = { api, method: req.method ?? 'GET', path, status: 200, body };
    requests.push(record);

    if (options.dropConnections) {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    if (options.apiKey !== undefined && credential(req) !== options.apiKey) {
      record.status = 401;
      // The wording of the real services for a missing or wrong key.
      const given = credential(req) !== undefined;
      const message =
        api === 'anthropic'
          ? given ? 'invalid x-api-key' : 'x-api-key header is required'
          : given ? 'Incorrect API key provided. You can find your API key in your account settings.' : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
      return json(res, 401, apiError(api, api === 'anthropic' ? 'authentication_error' : 'invalid_api_key', message));
    }
    if (options.failStatus) {
      record.status = options.failStatus;
      return json(res, options.failStatus, apiError(api, 'api_error', `emulated failure ${options.failStatus}`));
    }
    if (req.method === 'GET' && path.endsWith('/models')) {
      return json(res, 200, { object: 'list', data: [{ id: 'emu-coder', object: 'model', created: 0, owned_by: 'kai' }] });
    }
    if (path.endsWith('/messages/count_tokens')) return json(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
    if (req.method !== 'POST' || api === 'other' || typeof body !== 'object' || body === null) {
      record.status = 404;
      return json(res, 404, apiError(api, 'not_found_error', `the model-API emulator does not serve ${req.method} ${path}`));
    }
    if (options.hang) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': waiting\n\n');
      return; // closed when the emulator closes
    }
    const b = body as Record<string, unknown>;
    const transcript = api === 'anthropic' ? anthropicTranscript(b) : api === 'responses' ? responsesTranscript(b) : chatTranscript(b);
    const step = nextStep(options.scenario, transcript);
    record.transcript = transcript;
    record.step = step.kind;
    const id = randomUUID().replace(/-/g, '').slice(0, 24);
    if (api === 'anthropic') {
      if (b.stream === true) return streamAnthropic(res, step, transcript, id, String(b.model ?? 'emu'));
      return json(res, 200, anthropicMessage(step, transcript, id, String(b.model ?? 'emu')));
    }
    if (api === 'responses') return streamResponses(res, step, transcript, id, String(b.model ?? 'emu'));
    return streamChat(res, step, transcript, id, String(b.model ?? 'emu'), b.stream !== false);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function apiError(api: ModelApiRequest['api'], type: string, message: string) {
  return api === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { type, message, code: type } };
}
