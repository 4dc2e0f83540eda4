// Real-shaped secrets, shared by the config check and the log redaction tests. Every value holds
// a marker (`Qx7` + number) so a test can prove none of it reached the output.

/** Keys that name a secret, in the spellings found in the wild; the value is a plain word, so
 *  only the key can give it away. */
export const SECRET_KEYS: Array<[key: string, value: string]> = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'PGPASSWORD',
  'MYSQL_PWD',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'LINEAR_OAUTH_TOKEN',
  'LINEAR_WEBHOOK_SECRET',
  'LINEAR_CLIENT_SECRET',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'STRIPE_KEY',
  'SENDGRID_KEY',
  'GITLAB_PAT',
  'GITHUB_PAT',
  'NPM_TOKEN',
  'SLACK_BOT_TOKEN',
  'TF_VAR_db_password',
  'DB_PASSWORD',
  'api_key',
  'apiKey',
  'ApiKey',
  'x-api-key',
  'X-Auth-Token',
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Set-Cookie',
  'private_key',
  'privateKey',
  'ssh_private_key',
  'client_secret',
  'clientSecret',
  'accessToken',
  'refresh_token',
  'id_token',
  'password',
  'Password',
  'passphrase',
  'SSH_PASSPHRASE',
  'secret',
  'webhookSecret',
  'webhook_signing_secret',
  'credentials',
  'basic_auth',
  'auth',
  'linear-signature',
  'session_key',
  'encryption_key',
  'JWT',
  '//registry.npmjs.org/:_authToken',
].map((k, i) => [k, `plainWord${i}Qx7${i}v`]);

/** Keys that only look close: their values must stay visible. */
export const VISIBLE: Record<string, unknown> = {
  token_file: '/home/kai/.config/kai/linear-token.json',
  token_url: 'https://api.linear.app/oauth/token',
  client_key_path: '/etc/kai/client.key',
  authorize_url: 'https://linear.app/oauth/authorize',
  app_id: 'visible-app-id',
  CLAUDE_MODEL: 'visible-model',
  PATH: '/usr/local/bin:/usr/bin',
  author: 'Ada Lovelace',
  teamKey: 'ENG',
  key: 'ENG-123',
  keyboard: 'qwerty',
  path_pattern: 'src/**',
  resumeToken: 'sess-abc-visible',
  input_tokens: 1234,
  max_tokens: 4096,
  passwordless: true,
  args: ['--model', 'opus', '-p'],
};

/** Values that are secrets by their shape alone, under innocent keys. `secret` is the part that
 *  must disappear; `kept` is a part that must survive. */
export const SECRET_VALUES: Array<{ name: string; value: string; secret: string; kept?: string }> = [
  { name: 'Linear API key', value: 'using lin_api_Qx7a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9 now', secret: 'lin_api_Qx7a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9', kept: 'using' },
  { name: 'Linear OAuth token', value: 'lin_oauth_Qx7b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9', secret: 'lin_oauth_Qx7b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9' },
  { name: 'GitHub classic token', value: 'token ghp_Qx7cAbCdEfGhIjKlMnOpQrStUvWxYz0123456789', secret: 'ghp_Qx7cAbCdEfGhIjKlMnOpQrStUvWxYz0123456789' },
  { name: 'GitHub fine-grained token', value: 'github_pat_11AQx7d000aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuv', secret: 'github_pat_11AQx7d000aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefghijklmnopqrstuv' },
  { name: 'Anthropic key', value: 'sk-ant-api03-Qx7eAbCdEfGhIjKlMnOpQrStUvWxYz-0123456789_abcdef', secret: 'sk-ant-api03-Qx7eAbCdEfGhIjKlMnOpQrStUvWxYz-0123456789_abcdef' },
  { name: 'OpenAI key', value: 'sk-proj-Qx7fAbCdEfGhIjKlMnOpQrStUvWxYz0123', secret: 'sk-proj-Qx7fAbCdEfGhIjKlMnOpQrStUvWxYz0123' },
  { name: 'Slack bot token', value: 'xoxb-123456789012-1234567890123-Qx7gAbCdEfGhIjKlMnOpQrSt', secret: 'xoxb-123456789012-1234567890123-Qx7gAbCdEfGhIjKlMnOpQrSt' },
  { name: 'AWS access key id', value: 'id AKIAQX7HIOSFODNN7EXA here', secret: 'AKIAQX7HIOSFODNN7EXA', kept: 'here' },
  { name: 'JWT', value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJReDdpIn0.Qx7iSflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', secret: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJReDdpIn0.Qx7iSflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c' },
  {
    name: 'PEM private key',
    value: '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAQx7jZ2V0c2VjcmV0\nc2VjcmV0\n-----END RSA PRIVATE KEY-----',
    secret: 'MIIEpAIBAAKCAQEAQx7jZ2V0c2VjcmV0',
  },
  { name: 'Bearer header value', value: 'Bearer Qx7kAbCdEfGhIjKlMn', secret: 'Qx7kAbCdEfGhIjKlMn', kept: 'Bearer' },
  { name: 'header line in text', value: 'sent Authorization: token Qx7lAbCdEf\nnext line', secret: 'Qx7lAbCdEf', kept: 'next line' },
  { name: 'PostgreSQL URL', value: 'postgres://kai:Qx7mHunter2@db.internal:5432/kai', secret: 'Qx7mHunter2', kept: 'postgres://kai:' },
  { name: 'postgresql URL with encoded password', value: 'postgresql://kai:p%40ss%2FQx7n@db/kai?sslmode=require', secret: 'Qx7n', kept: 'sslmode=require' },
  { name: 'redis URL with password only', value: 'redis://:Qx7oRedisPass@cache:6379/0', secret: 'Qx7oRedisPass', kept: 'cache:6379' },
  { name: 'git remote with token', value: 'https://x-access-token:Qx7pGitPush@github.com/o/r.git', secret: 'Qx7pGitPush', kept: 'github.com/o/r.git' },
  { name: 'libpq keyword DSN', value: 'host=db user=kai password=Qx7qDsnPass dbname=kai', secret: 'Qx7qDsnPass', kept: 'dbname=kai' },
  { name: 'query string token', value: 'https://h.example/cb?code=1&access_token=Qx7rQueryTok&x=2', secret: 'Qx7rQueryTok', kept: 'code=1' },
  { name: 'environment assignment', value: 'GITHUB_TOKEN=Qx7sEnvAssign npm publish', secret: 'Qx7sEnvAssign', kept: 'npm publish' },
  { name: 'flag with equals', value: 'claude --api-key=Qx7tFlagEq -p hi', secret: 'Qx7tFlagEq', kept: '-p hi' },
  { name: 'flag with space', value: 'codex --token Qx7uFlagSp --model o3', secret: 'Qx7uFlagSp', kept: '--model o3' },
  { name: 'JSON text in a string', value: '{"client_secret": "Qx7vJsonText", "app": "visible"}', secret: 'Qx7vJsonText', kept: 'visible' },
];

/** An argument vector with secrets as separate elements and as `--flag=value`. */
export const SECRET_ARGS = ['--api-key=Qx7wArgEq', '--token', 'Qx7xArgNext', '--password', 'Qx7yArgPw', '--model', 'opus', '--github-pat', 'Qx7zArgPat'];

/** Every marker-bearing piece of secret text in the table. */
export function allSecrets(): string[] {
  return [
    ...SECRET_KEYS.map(([, v]) => v),
    ...SECRET_VALUES.map((c) => c.secret),
    'Qx7wArgEq',
    'Qx7xArgNext',
    'Qx7yArgPw',
    'Qx7zArgPat',
  ];
}

/** The whole table nested several levels deep, inside arrays and objects. */
export function nestedTable(): Record<string, unknown> {
  const flat: Record<string, unknown> = Object.fromEntries(SECRET_KEYS);
  const values = Object.fromEntries(SECRET_VALUES.map((c, i) => [`note_${i}`, c.value]));
  return {
    top: Object.fromEntries(SECRET_KEYS.slice(0, 5)),
    level1: {
      list: [{ level3: { level4: [flat, { level6: { values } }] } }, ['--token', 'Qx7xArgNext']],
      engine: { args: SECRET_ARGS, env: Object.fromEntries(SECRET_KEYS.slice(0, 10)) },
    },
    visible: VISIBLE,
  };
}
