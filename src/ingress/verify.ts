// Reads a webhook request's raw bytes (stopping at the size limit) and verifies them with
// Linear's own LinearWebhookClient: signature over the exact bytes, signed timestamp within
// 60 s. Shared by the webhook server and the gateway so both accept exactly the same requests.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { LinearWebhookClient as LinearWebhookClientType } from '@linear/sdk/webhooks';
import type { VerifyFailureReason } from '../observability/metrics';
import { parseLinearPayload, type LinearEvent } from './payloads';
import { errorText } from '../util';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The body is larger than ${limit} bytes`);
  }
}

/** Reads the body, rejecting as soon as it passes `limit` (or at once, by Content-Length). */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export type VerifyResult =
  | { ok: true; deliveryId: string; body: Record<string, unknown>; event: LinearEvent; raw: Buffer }
  | { ok: false; status: 400 | 401; reason: string; failure: VerifyFailureReason };

export interface DeliveryHeaders {
  signature?: string;
  deliveryId?: string;
}

export function deliveryHeaders(req: IncomingMessage): DeliveryHeaders {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { signature: one(req.headers['linear-signature']), deliveryId: one(req.headers['linear-delivery']) };
}

// @linear/sdk ships ES modules only. Node (>= 20.19) requires them natively; loading through
// Node's own require also keeps jest's CommonJS runtime (which does not transform .mjs) out of it.
const nodeRequire = createRequire(__filename);
let webhookClientClass: typeof LinearWebhookClientType | undefined;
function linearWebhookClient(secret: string): LinearWebhookClientType {
  webhookClientClass ??= (nodeRequire('@linear/sdk/webhooks') as { LinearWebhookClient: typeof LinearWebhookClientType }).LinearWebhookClient;
  return new webhookClientClass(secret);
}

export class DeliveryVerifier {
  private readonly client: LinearWebhookClientType;

  constructor(secret: string) {
    this.client = linearWebhookClient(secret);
  }

  /** 401 for a bad/missing signature or a stale timestamp, 400 for malformed or invalid bodies. */
  verify(raw: Buffer, headers: DeliveryHeaders): VerifyResult {
    if (!headers.signature) return { ok: false, status: 401, reason: 'missing Linear-Signature header', failure: 'missing_header' };
    try {
      this.client.verify(raw, headers.signature);
    } catch (err) {
      // verify checks the HMAC first, then parses the signed body for webhookTimestamp.
      if (err instanceof SyntaxError) return { ok: false, status: 400, reason: 'the body is not valid JSON', failure: 'malformed' };
      const message = errorText(err);
      if (/timestamp/i.test(message)) return { ok: false, status: 401, reason: 'webhookTimestamp missing or outside 60 s (replay?)', failure: 'stale' };
      return { ok: false, status: 401, reason: 'invalid signature', failure: 'signature' };
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { ok: false, status: 400, reason: 'the body is not valid JSON', failure: 'malformed' };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, status: 400, reason: 'the body is not a JSON object', failure: 'malformed' };
    const parsed = parseLinearPayload(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: `the body does not match Linear's payload: ${parsed.error}`, failure: 'malformed' };
    const deliveryId = headers.deliveryId?.trim();
    if (!deliveryId) return { ok: false, status: 400, reason: 'missing Linear-Delivery header (the dedupe key)', failure: 'missing_header' };
    return { ok: true, deliveryId, body: body as Record<string, unknown>, event: parsed.event, raw };
  }
}

/** The signing secret from config, else LINEAR_WEBHOOK_SECRET (as the seed's gateway read it). */
export function resolveSigningSecret(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = configured ?? env.LINEAR_WEBHOOK_SECRET;
  return s && s.length > 0 ? s : undefined;
}
