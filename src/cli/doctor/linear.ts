// Linear: a token kai can get (static, stored by `kai auth linear`, or client credentials) that
// answers the viewer query, acts as the app, and has the scopes kai needs.
import pino from 'pino';
import { createLinearGateway } from '../../activities/linear/gateway';
import { LINEAR_SCOPES, linearTokensIfConfigured, readTokenFile, staticTokenWarning, tokenFilePath, type LinearTokenProvider } from '../../config/linear-auth';
import type { KaiConfig } from '../../config/schema';
import { withTimeout } from '../../util';
import { fail, messageOf, pass, skip, warn, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const linearCheck: DoctorCheck = { name: 'Linear token', run: linearTokenAndScopes };

const VIEWER_QUERY = 'query KaiDoctorViewer { viewer { id name app organization { name urlKey } } }';

interface ViewerData {
  viewer: { id: string; name: string; app: boolean; organization: { name: string; urlKey: string } };
}

function credentialSource(tokens: LinearTokenProvider, config: KaiConfig, env: NodeJS.ProcessEnv): string {
  switch (tokens.kind) {
    case 'static':
      return env.LINEAR_OAUTH_TOKEN ? 'LINEAR_OAUTH_TOKEN' : 'transports.linear.oauth_token';
    case 'stored':
      return `tokens stored by \`kai auth linear\` in ${tokenFilePath(config, env)}`;
    case 'client_credentials':
      return 'the app\'s client credentials (linear.client_id / client_secret)';
  }
}

async function linearTokenAndScopes({ config, env, timeoutMs: ms, secrets }: DoctorContext): Promise<CheckResult[]> {
  const scopesSkipped = skip('Linear scopes', 'not checked: no valid Linear token');
  const { tokens, missing } = linearTokensIfConfigured(config, { env });
  if (!tokens) return [fail('Linear token', 'no Linear credentials are configured', missing.replace(/^No Linear credentials\.\s*/, '')), scopesSkipped];
  const source = credentialSource(tokens, config, env);
  const apiUrl = config.linear.api_url;
  const gateway = createLinearGateway({
    apiUrl,
    accessToken: async () => {
      const token = await tokens.accessToken();
      secrets.add(token);
      return token;
    },
    logger: pino({ level: 'silent' }),
  });
  let viewer: ViewerData['viewer'];
  try {
    viewer = (await withTimeout(gateway.raw<ViewerData>('viewer query', VIEWER_QUERY, {}), ms)).viewer;
  } catch (err) {
    const text = messageOf(err);
    const refused = /refused the credentials|401|403|authenticat/i.test(text);
    return [
      fail(
        'Linear token',
        `the viewer query at ${apiUrl} failed (token from ${source}): ${text}`,
        refused
          ? 'The token is wrong or revoked: set LINEAR_OAUTH_TOKEN to your Linear app\'s token, or run `kai auth linear` again.'
          : `Check linear.api_url (${apiUrl}) and the network path to it.`,
      ),
      scopesSkipped,
    ];
  }
  const results = [pass('Linear token', `valid at ${apiUrl} (from ${source}): acts as "${viewer.name}" in workspace "${viewer.organization.name}"`)];
  if (tokens.kind === 'static') {
    const renewal = staticTokenWarning(config, env);
    if (renewal) results.push(warn('Linear renewal', 'the token is static: nothing can renew it when Linear expires or revokes it', renewal));
  }
  const needed = [...LINEAR_SCOPES];
  let granted: string[] | undefined;
  if (tokens.kind === 'stored') {
    try {
      const scope = readTokenFile(tokenFilePath(config, env))?.scope;
      granted = scope ? scope.split(/[\s,]+/).filter(Boolean) : undefined;
    } catch {
      granted = undefined;
    }
  }
  if (!viewer.app) {
    results.push(
      warn(
        'Linear scopes',
        `the token acts as the user "${viewer.name}", not as an app: Linear will not delegate issues to it or start agent sessions`,
        `Install kai's Linear app with actor=app and scopes ${needed.join(', ')}: run \`kai auth linear\`.`,
      ),
    );
  } else if (granted) {
    const missing = needed.filter((s) => !granted!.includes(s));
    results.push(
      missing.length
        ? fail('Linear scopes', `the stored token lacks ${missing.join(', ')} (granted: ${granted.join(', ')})`, `Run \`kai auth linear\` again to grant ${needed.join(', ')}.`)
        : pass('Linear scopes', `acts as the app; granted ${granted.join(', ')}`),
    );
  } else {
    results.push(pass('Linear scopes', `acts as the app (actor=app); Linear does not report this token's scopes, kai needs ${needed.join(', ')}`));
  }
  return results;
}
