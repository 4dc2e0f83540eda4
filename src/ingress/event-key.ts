// The dedupe key of a Linear event, derived from what Linear signed. `Linear-Delivery` is not
// covered by the signature: the same signed body sent again under a new delivery id (within
// the 60 s replay window) must not run again. The key is the event's own ids where it has
// them, else a hash of its signed content without the envelope's per-send fields. The webhook
// server, the gateway (as the row's external_id) and the ingester all use it, and the workflow
// drops a signal whose deliveryId it has seen, so every path dedupes on the same key.
import { createHash } from 'node:crypto';
import type { LinearEvent } from './payloads';

export function eventKey(event: LinearEvent): string {
  switch (event.type) {
    case 'AgentSessionEvent': {
      const b = event.body;
      if (b.action === 'prompted' && b.agentActivity) return `activity:${b.agentActivity.id}`;
      return `session:${b.agentSession.id}:${b.action}`;
    }
    case 'Comment':
      return `comment:${event.body.data.id}:${event.body.action}`;
    case 'AppUserNotification':
      return `notification:${event.body.notification.id}:${event.body.action}`;
    case 'Issue': {
      const d = event.body.data;
      const version = d.updatedAt ?? contentHash({ data: d, updatedFrom: event.body.updatedFrom });
      return `issue:${d.id}:${event.body.action}:${version}`;
    }
    case 'OAuthApp':
    case 'PermissionChange':
      return `${event.type}:${event.body.action}:${contentHash(stripEnvelope(event.body))}`;
    case 'other':
      return `${event.linearType}:${event.action}`;
  }
}

/** The body without the fields Linear sets per send (a retry gets a fresh timestamp). */
function stripEnvelope(body: Record<string, unknown>): Record<string, unknown> {
  const { webhookTimestamp: _t, webhookId: _w, ...rest } = body;
  return rest;
}

/** A stable hash of JSON content: object keys sorted, so a row read back from PostgreSQL's
 *  jsonb (which reorders keys) hashes as the body did. Depth is bounded: deeper levels count
 *  by their position only, which keeps the walk iterative-cheap on hostile nesting. */
export function contentHash(value: unknown): string {
  const h = createHash('sha256');
  const stack: Array<{ v: unknown; depth: number } | string> = [{ v: value, depth: 0 }];
  while (stack.length) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      h.update(item);
      continue;
    }
    const { v, depth } = item;
    if (v === null || typeof v !== 'object') {
      h.update(JSON.stringify(v) ?? 'undefined');
      continue;
    }
    if (depth >= 64) {
      h.update(Array.isArray(v) ? '[…]' : '{…}');
      continue;
    }
    if (Array.isArray(v)) {
      stack.push(']');
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 }, ',');
      stack.push('[');
    } else {
      const keys = Object.keys(v as object).sort();
      stack.push('}');
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 }, `${JSON.stringify(k)}:`, ',');
      }
      stack.push('{');
    }
  }
  return h.digest('hex').slice(0, 32);
}
