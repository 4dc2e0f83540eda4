// Ids kai derives instead of drawing at random, so a retried call reuses them and Linear's
// idempotency by client id holds: parts of a split message, sub-issues from a checklist.
import { createHash } from 'node:crypto';

/** A name-based (RFC 4122 version 5 layout) UUID of `name` within the `namespace` UUID. */
export function uuidFromName(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`Not a UUID: ${namespace}`);
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Id of part `index` (0-based) of a message whose first part has id `activityId`. */
export function partActivityId(activityId: string, index: number): string {
  return index === 0 ? activityId : uuidFromName(activityId, `part:${index}`);
}
