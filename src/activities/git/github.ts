// Pull requests through @octokit/rest: look for the open PR of the branch before creating one,
// so retries and follow-up turns update it instead of opening a second.
import { Octokit } from '@octokit/rest';
import type { PullRequestRef } from '../../domain/workspace';

export type GitHubClient = InstanceType<typeof Octokit>;

export function createGitHubClient(opts: { token?: string; baseUrl: string; userAgent?: string }): GitHubClient {
  return new Octokit({
    auth: opts.token,
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    userAgent: opts.userAgent ?? 'kai',
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

/** owner/name from a remote URL: https, ssh (scp-like or ssh://) and git:// forms. */
export function parseRepoSlug(remoteUrl: string): { owner: string; repo: string } | undefined {
  const url = remoteUrl.trim();
  const m =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?[^/]+\/(.+?)\/([^/]+?)(?:\.git)?\/?$/.exec(url) ??
    /^(?:[^@/]+@)?[^:/]+:(?!\/)(.+?)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
  if (!m) return undefined;
  const owner = m[1]!.split('/').pop()!;
  return { owner, repo: m[2]! };
}

export interface PullRequestSpec {
  owner: string;
  repo: string;
  branch: string;
  base?: string;
  title: string;
  body: string;
  draft: boolean;
}

async function findOpen(gh: GitHubClient, spec: PullRequestSpec) {
  const { data } = await gh.rest.pulls.list({ owner: spec.owner, repo: spec.repo, state: 'open', head: `${spec.owner}:${spec.branch}`, per_page: 10 });
  return data.find((p) => p.head.ref === spec.branch);
}

export async function upsertPullRequest(gh: GitHubClient, spec: PullRequestSpec): Promise<PullRequestRef> {
  const update = async (number: number): Promise<PullRequestRef> => {
    const { data } = await gh.rest.pulls.update({ owner: spec.owner, repo: spec.repo, pull_number: number, title: spec.title, body: spec.body });
    return { url: data.html_url, number: data.number, title: data.title, created: false };
  };
  const open = await findOpen(gh, spec);
  if (open) return update(open.number);
  const base = spec.base ?? (await gh.rest.repos.get({ owner: spec.owner, repo: spec.repo })).data.default_branch;
  try {
    const { data } = await gh.rest.pulls.create({
      owner: spec.owner,
      repo: spec.repo,
      head: spec.branch,
      base,
      title: spec.title,
      body: spec.body,
      draft: spec.draft,
    });
    return { url: data.html_url, number: data.number, title: data.title, created: true };
  } catch (err) {
    // Another attempt created it in between: use that one.
    if ((err as { status?: number }).status === 422) {
      const again = await findOpen(gh, spec);
      if (again) return update(again.number);
    }
    throw err;
  }
}
