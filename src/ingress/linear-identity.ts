// What ingress needs from Linear itself, known in every process from the start: kai's app user
// id (its own comments must never become prompts, whichever replica receives them), and an
// issue's status type for notifications that do not carry it. The id comes from
// `transports.linear.app_id` / LINEAR_APP_ID, else from one `viewer { id }` query at start-up
// through @linear/sdk at the configured API URL, cached for the process.
import { LinearClient } from '@linear/sdk';
import type { Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { linearTokensIfConfigured } from '../config/linear-auth';
import type { IssueStateLookup } from './dispatch';
import { errorText, withTimeout } from '../util';

export interface LinearIdentity {
  /** kai's app user id; undefined when neither configured nor resolvable (comments are then ignored). */
  appUserId(): Promise<string | undefined>;
  issueState: IssueStateLookup;
}

const LOOKUP_TIMEOUT_MS = 5000;
const VIEWER_ID_QUERY = 'query KaiAppUser { viewer { id } }';
const ISSUE_STATE_QUERY = 'query KaiIssueState($id: String!) { issue(id: $id) { state { type } } }';

/** Cached per process and per (API URL, configured id): start-up asks Linear at most once. */
const cache = new Map<string, Promise<string | undefined>>();

export function linearIdentity(config: KaiConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): LinearIdentity {
  const configured = config.transports.linear.app_id?.trim() || env.LINEAR_APP_ID?.trim() || undefined;
  const apiUrl = config.linear.api_url;
  const { tokens, missing: noCredentials } = linearTokensIfConfigured(config, { env });
  const client = async () => new LinearClient({ apiUrl, accessToken: await tokens!.accessToken() });

  const appUserId = (): Promise<string | undefined> => {
    if (configured) return Promise.resolve(configured);
    const key = apiUrl;
    let found = cache.get(key);
    if (!found) {
      found = (async () => {
        if (!tokens) {
          logger.warn({ reason: noCredentials }, "kai's Linear app user id is unknown (no app_id and no credentials): comment follow-ups are ignored");
          return undefined;
        }
        try {
          // Only the id: the SDK's `viewer` model would ask for every User field.
          const sdk = await client();
          const res = await withTimeout(sdk.client.rawRequest<{ viewer: { id: string } }, Record<string, never>>(VIEWER_ID_QUERY), LOOKUP_TIMEOUT_MS, { what: 'the viewer query' });
          const viewer = res.data?.viewer;
          if (!viewer?.id) throw new Error('the viewer query returned no id');
          logger.info({ appUserId: viewer.id }, "kai's Linear app user id (from the viewer query)");
          return viewer.id;
        } catch (err) {
          cache.delete(key); // a later start may succeed
          logger.warn(
            { apiUrl, error: errorText(err) },
            "Could not learn kai's Linear app user id from the viewer query; set transports.linear.app_id (LINEAR_APP_ID). Comment follow-ups are ignored meanwhile",
          );
          return undefined;
        }
      })();
      cache.set(key, found);
    }
    return found;
  };

  const issueState: IssueStateLookup = async (issueId) => {
    if (!tokens) return undefined;
    const sdk = await client();
    const res = await sdk.client.rawRequest<{ issue: { state: { type: string } | null } | null }, { id: string }>(ISSUE_STATE_QUERY, { id: issueId });
    return res.data?.issue?.state?.type ?? undefined;
  };

  return { appUserId, issueState };
}
