// Posting one agent activity under a client id from the workflow. Linear documents no
// idempotency for that id: a second create with it is refused. A refusal of an id that Linear
// already holds means an earlier try got through (its answer was lost), so it counts as posted
// on every path: acknowledgement, progress, final response, elicitation.
import { AgentActivitySignal } from '@linear/sdk';
import type { LinearGateway } from './gateway';
import { isPermanent } from './errors';
import { errorText } from '../../util';

export interface ActivityWrite {
  /** uuid4 chosen by the workflow (or the progress sink). */
  id: string;
  agentSessionId: string;
  content: Record<string, unknown>;
  ephemeral?: boolean;
  signal?: 'select' | 'auth';
  signalMetadata?: Record<string, unknown>;
}

export type PostOutcome = 'posted' | 'already-posted';

const ACTIVITY_EXISTS_QUERY = /* GraphQL */ `
  query KaiActivityExists($id: String!) {
    agentActivity(id: $id) { id }
  }
`;

const SIGNALS = { select: AgentActivitySignal.Select, auth: AgentActivitySignal.Auth } as const;

/** Linear's wording for a taken id is not documented; the look-up below decides when it differs. */
function saysIdTaken(err: unknown): boolean {
  const msg = errorText(err);
  return /already (exists|in use)|duplicate (id|key)/i.test(msg) && !/label/i.test(msg);
}

async function activityExists(linear: LinearGateway, id: string): Promise<boolean> {
  try {
    const data = await linear.raw<{ agentActivity: { id: string } | null }>('check whether the activity was posted', ACTIVITY_EXISTS_QUERY, { id });
    return data.agentActivity?.id === id;
  } catch {
    return false;
  }
}

export async function postActivity(linear: LinearGateway, what: string, input: ActivityWrite): Promise<PostOutcome> {
  const { signal, ...rest } = input;
  try {
    await linear.request(what, (c) => c.createAgentActivity({ ...rest, ...(signal ? { signal: SIGNALS[signal] } : {}) }));
    return 'posted';
  } catch (err) {
    if (!isPermanent(err)) throw err;
    if (saysIdTaken(err)) return 'already-posted';
    // A missing session or issue is its own answer; anything else may be a taken id in words
    // kai does not know, which one look-up settles.
    if (!/not found/i.test(err instanceof Error ? err.message : '') && (await activityExists(linear, input.id))) return 'already-posted';
    throw err;
  }
}
