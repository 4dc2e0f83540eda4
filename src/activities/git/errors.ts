// Turning what git or GitHub refused into the failure the workflow's retry policy expects, as
// linear/errors.ts does for Linear:
//  GitHub rate limit (403/429 with retry-after or x-ratelimit-remaining: 0) -> retryAfter(reset)
//  bad credentials, no access, missing repository, 422 validation, rejected push -> permanent,
//    with a message that says what to fix
//  network, 5xx, a remote that hung up                                         -> plain Error
// Messages never carry a token: URLs lose their userinfo and known secrets are masked.
import { ApplicationFailure } from '@temporalio/common';
import { retryAfter } from '../errors';
import { GitError } from './git';
import { errorText } from '../../util';

/** Failure types of the git and GitHub activities (all permanent except the rate limit). */
export const GitFailureTypes = {
  gitAuth: 'GitAuthFailed',
  gitRepositoryMissing: 'GitRepositoryNotFound',
  gitPushRejected: 'GitPushRejected',
  protectedBranch: 'ProtectedBranch',
  githubAuth: 'GitHubAuthFailed',
  githubForbidden: 'GitHubForbidden',
  githubNotFound: 'GitHubNotFound',
  githubValidation: 'GitHubValidationFailed',
  githubRateLimited: 'GitHubRateLimited',
} as const;

type FailureKey = keyof typeof GitFailureTypes;

export function gitPermanent(type: FailureKey, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: GitFailureTypes[type], message, nonRetryable: true });
}

const DEFAULT_RATELIMIT_WAIT_MS = 60_000;
const MAX_RATELIMIT_WAIT_MS = 3_600_000;

/** Removes credentials from text that may quote a URL or a header. */
export function redact(text: string, secrets: Array<string | undefined> = []): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@').replace(/(authorization:\s*)(\S+\s+)?\S+/gi, '$1***');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

// ------------------------------------------------------------------------------------ GitHub

interface OctokitErrorShape {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

interface GitHubErrorBody {
  message?: string;
  errors?: Array<{ resource?: string; field?: string; code?: string; message?: string } | string>;
}

function header(e: OctokitErrorShape, name: string): string | undefined {
  const v = e.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

function describeValidation(body: GitHubErrorBody | undefined): string {
  const parts = (body?.errors ?? []).map((x) =>
    typeof x === 'string' ? x : x.message ?? [x.resource, x.field, x.code].filter(Boolean).join(' '),
  );
  return [body?.message ?? 'Validation Failed', ...parts].join(': ');
}

/** What to do about a 422 on a pull request, from GitHub's own error entries. */
function validationAdvice(body: GitHubErrorBody | undefined): string {
  const errors = (body?.errors ?? []).filter((x): x is Exclude<typeof x, string> => typeof x === 'object');
  if (errors.some((x) => x.field === 'head')) return 'The branch is not on GitHub: the push did not reach this repository (check [github] repository and the remote URL).';
  if (errors.some((x) => x.field === 'base'))
    return 'The base branch does not exist on GitHub: set [github] base_branch (or [projects.<alias>] worktree_base) to an existing branch.';
  if (errors.some((x) => /no commits between/i.test(x.message ?? ''))) return 'The branch has no commits beyond its base, so there is nothing to review.';
  return 'Fix the request GitHub refused; retrying it unchanged cannot succeed.';
}

/** The error an activity throws for a failed GitHub call named `what` (e.g. "open the pull request for kai/ENG-1"). */
export function githubFailure(what: string, err: unknown, ctx: { repository?: string; secrets?: Array<string | undefined> } = {}, now = Date.now()): Error {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as OctokitErrorShape;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const body = (typeof e.response?.data === 'object' && e.response?.data !== null ? e.response.data : undefined) as GitHubErrorBody | undefined;
  const reason = redact(body?.message ?? (errorText(err)), ctx.secrets);
  const repo = ctx.repository ?? 'the repository';

  if (status === 403 || status === 429) {
    const retryAfterS = Number(header(e, 'retry-after'));
    const remaining = header(e, 'x-ratelimit-remaining');
    const resetS = Number(header(e, 'x-ratelimit-reset'));
    const secondaryText = /rate limit/i.test(reason);
    if ((Number.isFinite(retryAfterS) && retryAfterS > 0) || remaining === '0' || secondaryText || status === 429) {
      let wait = DEFAULT_RATELIMIT_WAIT_MS;
      if (Number.isFinite(retryAfterS) && retryAfterS > 0) wait = retryAfterS * 1000;
      else if (remaining === '0' && Number.isFinite(resetS) && resetS > 0) wait = resetS * 1000 - now;
      wait = Math.min(MAX_RATELIMIT_WAIT_MS, Math.max(1_000, wait));
      return retryAfter(`${what}: GitHub rate limit reached (${reason}); trying again in ${Math.ceil(wait / 1000)} s`, wait, GitFailureTypes.githubRateLimited);
    }
    return gitPermanent(
      'githubForbidden',
      `${what}: GitHub refused it (HTTP 403: ${reason}). Give the token write access to pull requests and contents of ${repo} ([github] token or GITHUB_TOKEN).`,
    );
  }
  if (status === 401)
    return gitPermanent('githubAuth', `${what}: GitHub rejected the token (HTTP 401: ${reason}). Set a valid token in [github] token or GITHUB_TOKEN.`);
  if (status === 404)
    return gitPermanent(
      'githubNotFound',
      `${what}: GitHub has no ${repo} that this token can see (HTTP 404). Check [github] repository (owner/name) or the remote URL, and that the token has access to it.`,
    );
  if (status === 422) return gitPermanent('githubValidation', `${what}: GitHub refused it (HTTP 422: ${redact(describeValidation(body), ctx.secrets)}). ${validationAdvice(body)}`);
  if (status !== undefined && status >= 500) return new Error(`${what}: GitHub is unavailable (HTTP ${status})`);
  return new Error(`${what}: ${reason}`);
}

// --------------------------------------------------------------------------------------- git

const AUTH_PATTERNS = [
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /permission denied \(publickey/i,
  /HTTP Basic: Access denied/i,
  /requested URL returned error: (401|403)/i,
  /invalid username or (password|token)/i,
  /write access to repository not granted/i,
  /permission to \S+ denied/i,
];
const MISSING_PATTERNS = [/repository not found/i, /does not appear to be a git repository/i, /requested URL returned error: 404/i, /repository '.*' not found/i];
const REJECTED_PATTERNS = [/\(non-fast-forward\)/i, /\(fetch first\)/i, /updates were rejected/i, /\(stale info\)/i];
const PROTECTED_PATTERNS = [/protected branch/i, /GH006/, /pre-receive hook declined/i];

/** The error an activity throws for a failed git command that talked to `url`. */
export function gitFailure(what: string, err: unknown, ctx: { url?: string; branch?: string; secrets?: Array<string | undefined> } = {}): Error {
  if (err instanceof ApplicationFailure) return err;
  // Cancellation (CancelledFailure) and kai's own errors pass through as they are.
  if (!(err instanceof GitError)) return err instanceof Error ? err : new Error(String(err));
  const text = `${err.stderr}\n${err.message}`;
  const url = ctx.url ? redact(ctx.url, ctx.secrets) : 'the remote';
  const detail = redact(err.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ') || err.message, ctx.secrets).slice(0, 600);
  if (REJECTED_PATTERNS.some((p) => p.test(text)))
    return gitPermanent(
      'gitPushRejected',
      `${what}: ${url} already has commits on ${ctx.branch ?? 'the branch'} that this workspace lacks (${detail}). ` +
        'kai never force-pushes: merge or rebase the branch on the remote by hand, or delete the remote branch, then ask again.',
    );
  if (PROTECTED_PATTERNS.some((p) => p.test(text)))
    return gitPermanent('protectedBranch', `${what}: ${url} refused the push to a protected branch (${detail}). kai pushes only to its own branches.`);
  if (AUTH_PATTERNS.some((p) => p.test(text)))
    return gitPermanent(
      'gitAuth',
      `${what}: ${url} refused the credentials (${detail}). Set [github] token (or GITHUB_TOKEN) to a token with contents write access to the repository, ` +
        'or give the worker an SSH key for an ssh:// URL.',
    );
  if (MISSING_PATTERNS.some((p) => p.test(text)))
    return gitPermanent('gitRepositoryMissing', `${what}: there is no repository at ${url} (${detail}). Check the project's url (or its remote) and that the token can see it.`);
  return new Error(`${what}: ${detail}`);
}
