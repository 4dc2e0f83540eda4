// GitHub: a token that GitHub accepts and that may push to the repositories kai works on.
import { createGitHubClient } from '../../activities/git/github';
import { withTimeout } from '../../util';
import { fail, messageOf, pass, type CheckResult, type DoctorCheck, type DoctorContext } from './check';
import { repositories } from './repositories';

export const githubCheck: DoctorCheck = { name: 'GitHub token', run: async (ctx) => [await githubToken(ctx)] };

async function githubToken(ctx: DoctorContext): Promise<CheckResult> {
  const { config, env, timeoutMs: ms, secrets } = ctx;
  const token = config.github.token ?? env.GITHUB_TOKEN ?? env.GH_TOKEN;
  const source = config.github.token ? 'github.token' : env.GITHUB_TOKEN ? 'GITHUB_TOKEN' : 'GH_TOKEN';
  if (!token) {
    return fail('GitHub token', 'not set: kai pushes branches but cannot open pull requests', 'Set GITHUB_TOKEN (or github.token) to a token that may push to and open pull requests on your repositories.');
  }
  secrets.add(token);
  const apiUrl = config.github.api_url;
  const gh = createGitHubClient({ token, baseUrl: apiUrl });
  const repos = config.github.repository ? [config.github.repository] : await repositories(ctx).then((r) => r.slugs, () => []);
  const status = (err: unknown) => (err as { status?: number }).status;
  const rejected = (err: unknown): CheckResult =>
    status(err) === 401
      ? fail('GitHub token', `${apiUrl} rejected the token from ${source} (HTTP 401: bad credentials)`, `Replace ${source} with a valid token (github.api_url is ${apiUrl}).`)
      : fail('GitHub token', `request to ${apiUrl} failed: ${messageOf(err)}`, `Check github.api_url (${apiUrl}) and the network path to it.`);
  // A GitHub App's installation token cannot read /user, so when kai knows its repositories it
  // asks for those: that is also the access that matters.
  if (repos.length === 0) {
    try {
      const res = await withTimeout(gh.rest.users.getAuthenticated(), ms);
      const scopes = res.headers['x-oauth-scopes'];
      return pass('GitHub token', `valid at ${apiUrl} (from ${source}): authenticated as ${res.data.login}${scopes ? `, scopes: ${scopes}` : ''}`);
    } catch (err) {
      return rejected(err);
    }
  }
  const seen: string[] = [];
  for (const full of repos) {
    const [owner, repo] = full.split('/');
    if (!owner || !repo) return fail('GitHub token', `github.repository "${full}" is not owner/name`, 'Set github.repository to "owner/name", or leave it unset to use the remote.');
    try {
      const { data } = await withTimeout(gh.rest.repos.get({ owner, repo }), ms);
      const perms = (data as { permissions?: { push?: boolean } }).permissions;
      if (perms && perms.push === false) {
        return fail('GitHub token', `the token from ${source} can read ${full} but not push to it`, `Give the token write access (contents and pull requests) to ${full}.`);
      }
      seen.push(full);
    } catch (err) {
      if (status(err) === 404) {
        return fail('GitHub token', `the token from ${source} cannot see ${full} at ${apiUrl} (HTTP 404)`, `Grant the token access to ${full}, or fix the remote / github.repository.`);
      }
      return rejected(err);
    }
  }
  return pass('GitHub token', `valid at ${apiUrl} (from ${source}): can access ${seen.join(', ')}`);
}
