// Reads an events row as a Linear event. kai's gateway stores the verified Linear body as it
// came (as jsonb, or as its exact signed bytes when jsonb cannot hold it: see rawPayload); the original kai-gateway stored it wrapped or normalized (`{payload: …}`, `{data: …}`,
// event_type "agentsessionevent.created", snake_case keys). Both are accepted; a row that is
// neither says why in its error.
import { z } from 'zod';
import { parseLinearPayload, type LinearEvent } from '../ingress/payloads';

export const eventRowSchema = z.object({
  id: z.string(),
  source: z.string(),
  event_type: z.string(),
  external_id: z.string().nullable(),
  payload: z.unknown(),
  attempts: z.number().int(),
  created_at: z.date(),
  issue_id: z.string().nullable().optional(),
  priority: z.number().nullable().optional(),
  in_current_cycle: z.boolean().nullable().optional(),
});
export type EventRow = z.infer<typeof eventRowSchema>;

export type RowReading = { ok: true; event: LinearEvent; body: Record<string, unknown> } | { ok: false; error: string };

const LINEAR_TYPES = new Set([
  'AgentSessionEvent', 'Comment', 'Issue', 'OAuthApp', 'PermissionChange', 'Attachment', 'AuditEntry', 'Customer',
  'CustomerNeed', 'Cycle', 'Document', 'Initiative', 'InitiativeUpdate', 'IssueLabel', 'Project', 'ProjectUpdate',
  'Reaction', 'User', 'IssueSLA', 'AppUserNotification',
]);

type Obj = Record<string, unknown>;

/** The key of a payload that holds the signed body's bytes (base64) instead of its JSON. */
export const RAW_BODY_KEY = 'kaiSignedBody';
/** Deeper than this, PostgreSQL's JSON parser may run out of stack: store the bytes instead. */
const JSONB_MAX_DEPTH = 500;

/** Whether jsonb can hold this JSON text as it is: no NUL character in a string (jsonb
 *  strings are text, which cannot hold one) and nesting PostgreSQL parses. One pass. */
export function storableAsJsonb(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        // \u0000 (any case) is a NUL once parsed.
        if (text.charCodeAt(i + 1) === 0x75 && text.startsWith('0000', i + 2)) return false;
        i++;
      } else if (c === 0x22) inString = false;
      else if (c === 0) return false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > JSONB_MAX_DEPTH) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/** A jsonb payload that keeps the signed bytes exactly. */
export function rawPayload(raw: Buffer): string {
  return JSON.stringify({ [RAW_BODY_KEY]: raw.toString('base64') });
}
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function decode(v: unknown): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/** The raw Linear body inside a stored payload, if there is one. */
function findLinearBody(payload: unknown): Obj | undefined {
  const seen: unknown[] = [decode(payload)];
  for (let i = 0; i < seen.length && i < 12; i++) {
    const v = seen[i];
    if (!isObj(v)) continue;
    if (typeof v.type === 'string' && LINEAR_TYPES.has(v.type) && typeof v.action === 'string') return v;
    for (const k of ['payload', 'body', 'raw', 'event', 'webhook', 'data']) if (k in v) seen.push(decode(v[k]));
  }
  return undefined;
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelize(x)]));
}

/** Merges the original gateway's wrappers into one flat object, as takopi-linear read them. */
function flatten(payload: unknown): Obj {
  let out: Obj = isObj(payload) ? { ...payload } : {};
  for (let i = 0; i < 6; i++) {
    const inner = isObj(out.payload) ? out.payload : isObj(out.data) ? out.data : undefined;
    if (!inner) break;
    const key = isObj(out.payload) ? 'payload' : 'data';
    const { [key]: _drop, ...rest } = out;
    out = { ...rest, ...inner };
  }
  return out;
}

/** event_type / type / action of the original gateway -> Linear type and action. */
function legacyKind(eventType: string, flat: Obj): { type: string; action?: string } {
  const raw = (typeof flat.type === 'string' ? flat.type : eventType).trim();
  const lower = raw.toLowerCase();
  const action = typeof flat.action === 'string' ? flat.action : undefined;
  const m = /^(agentsessionevent|agent_session|agentsession)[._](\w+)$/.exec(lower);
  if (m) return { type: 'AgentSessionEvent', action: m[2] };
  if (lower === 'agentsessionevent' || lower === 'agent_session') return { type: 'AgentSessionEvent', action };
  const e = /^(comment|issue)[._](\w+)$/.exec(lower);
  if (e) return { type: e[1] === 'comment' ? 'Comment' : 'Issue', action: e[2] };
  const known = [...LINEAR_TYPES].find((t) => t.toLowerCase() === lower);
  return { type: known ?? raw, action };
}

/** Builds Linear's AgentSessionEvent shape from the original gateway's normalized fields. */
function legacyAgentSessionBody(flat: Obj, action: string | undefined, createdAt: Date, rowKey: string): Obj | undefined {
  const session = isObj(flat.agentSession) ? flat.agentSession : undefined;
  const sessionId = (session?.id as string | undefined) ?? (flat.agentSessionId as string | undefined);
  if (!sessionId || !action) return undefined;
  const issue = (session && isObj(session.issue) ? session.issue : undefined) ?? (isObj(flat.issue) ? flat.issue : undefined);
  const issueId = (issue?.id as string | undefined) ?? (session?.issueId as string | undefined) ?? (flat.issueId as string | undefined);
  let activity = flat.agentActivity;
  if (typeof activity === 'string') activity = { content: { type: 'prompt', body: activity } };
  if (isObj(activity)) {
    let content = decode(activity.content);
    if (!isObj(content)) content = typeof activity.body === 'string' ? { type: 'prompt', body: activity.body } : {};
    // An activity without its id gets one per row, so two messages never share a dedupe key.
    activity = { id: (activity.id as string | undefined) ?? `legacy:${rowKey}`, ...activity, content };
  }
  return {
    type: 'AgentSessionEvent',
    action,
    webhookTimestamp: createdAt.getTime(),
    appUserId: flat.appUserId,
    agentSession: { ...(session ?? {}), id: sessionId, issueId, issue: issue ? { ...issue, id: issueId } : undefined },
    agentActivity: activity,
    promptContext: typeof flat.promptContext === 'string' ? flat.promptContext : undefined,
  };
}

export function readEventRow(row: Pick<EventRow, 'event_type' | 'payload' | 'created_at'> & Partial<Pick<EventRow, 'id' | 'external_id'>>): RowReading {
  let payload = decode(row.payload);
  if (isObj(payload) && typeof payload[RAW_BODY_KEY] === 'string') {
    try {
      payload = JSON.parse(Buffer.from(payload[RAW_BODY_KEY], 'base64').toString('utf8'));
    } catch {
      return { ok: false, error: `the stored signed body (${RAW_BODY_KEY}) is not JSON` };
    }
  }
  const raw = findLinearBody(payload);
  let body: Obj | undefined = raw;
  if (!body) {
    const flat = camelize(flatten(payload)) as Obj;
    const kind = legacyKind(row.event_type, flat);
    if (kind.type === 'AgentSessionEvent') body = legacyAgentSessionBody(flat, kind.action, row.created_at, row.external_id ?? row.id ?? row.created_at.toISOString());
    else if (LINEAR_TYPES.has(kind.type) && kind.action)
      body = { ...flat, type: kind.type, action: kind.action, webhookTimestamp: row.created_at.getTime() };
    if (!body)
      return {
        ok: false,
        error: `cannot understand this row: event_type "${row.event_type}" with no Linear webhook body (a {type, action, …} object) and no agent session id in the payload`,
      };
  }
  if (typeof body.webhookTimestamp !== 'number') body = { ...body, webhookTimestamp: row.created_at.getTime() };
  const parsed = parseLinearPayload(body);
  if (!parsed.ok) return { ok: false, error: `cannot understand this row as a Linear ${String(body.type)} event: ${parsed.error}` };
  return { ok: true, event: parsed.event, body };
}
