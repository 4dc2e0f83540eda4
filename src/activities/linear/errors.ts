// Turning whatever a Linear call threw into the failure the workflow's retry policy expects:
//  RATELIMITED                 -> retryAfter(until the reset Linear gave)
//  authentication failure      -> `auth`: the gateway renews the token once and retries
//  user / input / schema error -> permanent('linearUser'): retrying cannot help
//  network, 5xx, auth hiccups  -> a plain Error: Temporal retries with backoff
// Messages name the call and Linear's reason, never the token.
import { ApplicationFailure } from '@temporalio/common';
import { permanent, retryAfter } from '../errors';
import { BudgetExhausted } from './budget';

interface RawGraphQLError {
  message?: string;
  extensions?: { code?: string; type?: string; userError?: boolean; userPresentableMessage?: string };
}

interface SdkErrorShape {
  message?: string;
  status?: number;
  type?: string;
  raw?: { response?: { errors?: RawGraphQLError[]; status?: number; headers?: { get(name: string): string | null }; error?: string } };
}

export type LinearFailureKind = 'ratelimited' | 'auth' | 'user' | 'transient';

export interface ClassifiedLinearError {
  kind: LinearFailureKind;
  message: string;
  /** For `ratelimited`: how long until Linear accepts requests again. */
  retryAfterMs?: number;
  /** For `ratelimited`: the reset instant (epoch ms). */
  resetAtMs?: number;
}

const DEFAULT_RATELIMIT_WAIT_MS = 60_000;
const MAX_RATELIMIT_WAIT_MS = 3_600_000;

/** Linear sends the reset as epoch milliseconds; tolerate seconds too. */
function parseReset(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n;
}

export function classifyLinearError(err: unknown, now = Date.now()): ClassifiedLinearError {
  if (err instanceof BudgetExhausted)
    return { kind: 'ratelimited', message: err.message, retryAfterMs: err.retryAfterMs, resetAtMs: now + err.retryAfterMs };
  const e = (err ?? {}) as SdkErrorShape;
  const response = e.raw?.response;
  const errors = response?.errors ?? [];
  const status = e.status ?? response?.status;
  const codes = errors.map((x) => x.extensions?.code ?? '');
  const types = errors.map((x) => (x.extensions?.type ?? '').toLowerCase());
  const reason =
    errors.map((x) => x.extensions?.userPresentableMessage && x.message !== x.extensions.userPresentableMessage ? `${x.message} (${x.extensions.userPresentableMessage})` : x.message).filter(Boolean).join('; ') ||
    (err instanceof Error ? err.message.split(': {')[0] : String(err));

  if (codes.includes('RATELIMITED') || types.includes('ratelimited') || status === 429 || e.type === 'Ratelimited') {
    const headers = response?.headers;
    const resetAt = parseReset(headers?.get('x-ratelimit-requests-reset'), now);
    const retryAfterS = Number(headers?.get('retry-after'));
    let wait = resetAt !== undefined ? resetAt - now : Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : DEFAULT_RATELIMIT_WAIT_MS;
    wait = Math.min(MAX_RATELIMIT_WAIT_MS, Math.max(1_000, wait));
    return { kind: 'ratelimited', message: `Linear rate limit reached: ${reason}`, retryAfterMs: wait, resetAtMs: now + wait };
  }
  // Linear reports a bad or expired token as HTTP 401, or as HTTP 400 whose GraphQL error has
  // code AUTHENTICATION_ERROR / type "authentication error" (and `userError: true`): either way
  // a renewed token can succeed where the input was fine.
  if (status === 401 || codes.includes('AUTHENTICATION_ERROR') || types.includes('authentication error') || e.type === 'AuthenticationError')
    return { kind: 'auth', message: `Linear refused the access token (HTTP ${status ?? '?'}: ${reason})` };
  const userError =
    errors.some((x) => x.extensions?.userError === true) ||
    codes.some((c) => c === 'INPUT_ERROR' || c === 'GRAPHQL_VALIDATION_FAILED' || c === 'GRAPHQL_PARSE_FAILED') ||
    types.some((t) => t === 'invalid input' || t === 'graphql error' || t === 'user error' || t === 'feature not accessible');
  // A 4xx with GraphQL errors is Linear refusing the request itself; a 401/403 may be a token
  // mid-rotation, so it stays retryable (bounded by the activity's attempts).
  if (userError && status !== 403) return { kind: 'user', message: reason };
  if (status === 403) return { kind: 'transient', message: `Linear refused the credentials (HTTP ${status}); check the Linear access token` };
  if (status && status >= 500) return { kind: 'transient', message: `Linear is unavailable (HTTP ${status})` };
  return { kind: 'transient', message: `Linear request failed: ${reason}` };
}

/** The error an activity throws for a failed Linear call named `what`. */
export function toActivityFailure(what: string, err: unknown, now = Date.now()): Error {
  if (err instanceof ApplicationFailure) return err;
  const c = classifyLinearError(err, now);
  const message = `${what}: ${c.message}`;
  if (c.kind === 'ratelimited') return retryAfter(message, c.retryAfterMs ?? DEFAULT_RATELIMIT_WAIT_MS, 'LinearRateLimited');
  if (c.kind === 'user') return permanent('linearUser', message);
  // Retryable: a renewing token source may hold a good token by the next attempt.
  if (c.kind === 'auth') return ApplicationFailure.create({ type: 'LinearAuth', message: `${message}; check the Linear credentials` });
  return new Error(message);
}

/** Whether a failure is Linear refusing the access token (before or after classification). */
export function isAuthFailure(err: unknown): boolean {
  if (err instanceof ApplicationFailure) return err.type === 'LinearAuth';
  return classifyLinearError(err).kind === 'auth';
}

export function isPermanent(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.nonRetryable === true;
}

/** The delay a failure asks for before the next try, in ms, when it names one. */
export function retryDelayOf(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure) || err.nextRetryDelay === undefined || err.nextRetryDelay === null) return undefined;
  const d = err.nextRetryDelay;
  return typeof d === 'number' ? d : Number.parseInt(String(d), 10);
}
