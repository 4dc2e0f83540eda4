// One Linear delivery through an HTTP adapter (webhook server, gateway). The front half,
// receiveDelivery: method, size limit, signature, timestamp, JSON and schema, answering the
// request itself when it must be refused (and counting the refusal). handleDelivery wraps it
// with what both adapters do after: hand the delivery to what stands behind them (Temporal, the
// events table), count the outcome and answer 200, or 503 so Linear delivers it again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { recordDelivery, recordVerifyFailure, type DeliveryOutcome, type KaiMetrics, type VerifyFailureReason } from '../observability/metrics';
import { errorText } from '../util';
import { sendJson, sendText } from './http';
import { BodyTooLargeError, DeliveryVerifier, deliveryHeaders, readRawBody } from './verify';
import { linearEventType, type LinearEvent } from './payloads';

export interface Received {
  deliveryId: string;
  body: Record<string, unknown>;
  event: LinearEvent;
  /** The bytes Linear signed, exactly as received. */
  raw: Buffer;
  receivedAt: Date;
}

export interface ReceiveOptions {
  verifier: DeliveryVerifier | undefined;
  bodyLimitBytes: number;
  logger: Logger;
  /** Which ingress this is, for kai_deliveries_total's `source`. */
  source: 'webhook' | 'gateway';
  metrics: KaiMetrics;
}

/** The type label of a refused delivery: its body is not trusted, so neither is its type (and an
 *  attacker-chosen label value would grow the series without bound). */
export const UNVERIFIED_TYPE = 'unknown';

export async function receiveDelivery(req: IncomingMessage, res: ServerResponse, opts: ReceiveOptions): Promise<Received | undefined> {
  const refuse = (status: number, reason: string, headers?: Record<string, string>, failure?: VerifyFailureReason) => {
    // 503 (no secret configured) is kai's fault and Linear retries it; the rest are the sender's.
    recordDelivery(opts.source, UNVERIFIED_TYPE, status >= 500 ? 'failed' : 'rejected', opts.metrics);
    if (failure) recordVerifyFailure(failure, opts.metrics);
    opts.logger.warn({ status, reason, deliveryId: req.headers['linear-delivery'] }, 'Refused a webhook delivery');
    sendText(req, res, status, reason, headers);
    return undefined;
  };
  const receivedAt = new Date();
  if (req.method !== 'POST') return refuse(405, 'Method not allowed: Linear webhooks are POSTed', { Allow: 'POST' });
  if (!opts.verifier) return refuse(503, 'The webhook signing secret is not configured (webhook_signing_secret or LINEAR_WEBHOOK_SECRET)');
  let raw: Buffer;
  try {
    raw = await readRawBody(req, opts.bodyLimitBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return refuse(413, `Payload too large: the limit is ${opts.bodyLimitBytes} bytes`);
    return refuse(400, 'Could not read the body');
  }
  const result = opts.verifier.verify(raw, deliveryHeaders(req));
  if (!result.ok) return refuse(result.status, result.reason, undefined, result.failure);
  return { deliveryId: result.deliveryId, body: result.body, event: result.event, raw: result.raw, receivedAt };
}

/** What an adapter did with a verified delivery: the outcome to count and what to add to the 200 answer. */
export interface Accepted {
  outcome: DeliveryOutcome;
  answer: Record<string, unknown>;
}

export interface HandleOptions extends ReceiveOptions {
  /** Takes the verified delivery (signals or stores it); throws when that did not happen. */
  accept(received: Received, type: string): Promise<Accepted>;
  /** When `accept` throws: the error log's message, and the 503 answer's text. */
  unavailable: { log: string; answer: string };
}

export async function handleDelivery(req: IncomingMessage, res: ServerResponse, opts: HandleOptions): Promise<void> {
  const received = await receiveDelivery(req, res, opts);
  if (!received) return;
  const type = linearEventType(received.event);
  try {
    const { outcome, answer } = await opts.accept(received, type);
    recordDelivery(opts.source, type, outcome, opts.metrics);
    sendJson(res, 200, { ok: true, deliveryId: received.deliveryId, ...answer });
  } catch (err) {
    recordDelivery(opts.source, type, 'failed', opts.metrics);
    opts.logger.error({ deliveryId: received.deliveryId, event: type, error: errorText(err) }, opts.unavailable.log);
    sendText(req, res, 503, opts.unavailable.answer);
  }
}
