// The environment an engine starts with. An engine is untrusted code driven by untrusted text,
// so it gets an allowlist: what a CLI needs to run (PATH, HOME, locale, temp dir, proxies and CA
// files), its own API keys, kai's per-run KAI_* context, and nothing else of the worker's
// environment. kai's own credentials (Linear, GitHub, PostgreSQL, Temporal, the webhook secret)
// never reach it, even when a config names them.

/** Worker variables every engine sees when set: what a CLI needs to start and reach its API. */
const BASICS = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'NO_COLOR',
  'TMPDIR',
  'TMP',
  'TEMP',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
] as const;

/**
 * Each engine's own credentials and settings, passed from the worker's environment when set
 * there (an image that sets ANTHROPIC_API_KEY keeps working). Anything else goes in
 * `[engines.<name>] env`.
 */
export const ENGINE_KEY_VARS: Record<string, readonly string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_OAUTH_TOKEN', 'CLAUDE_CONFIG_DIR'],
  codex: ['OPENAI_API_KEY', 'CODEX_API_KEY', 'OPENAI_BASE_URL', 'CODEX_HOME'],
  opencode: ['OPENCODE_CONFIG', 'OPENCODE_CONFIG_DIR', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY'],
  pi: ['PI_CODING_AGENT_DIR', 'ANTHROPIC_API_KEY', 'ANTHROPIC_OAUTH_TOKEN', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION', 'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_APPLICATION_CREDENTIALS', 'GEMINI_CLI_HOME'],
  script: [],
};

/**
 * kai's own variables: never given to an engine, whatever a config or a pass list says.
 * Matched case-insensitively against the whole name.
 */
const KAI_SECRETS = [
  /^LINEAR_/i,
  /^GITHUB_/i,
  /^GH_/i,
  /^GIT_(ASKPASS|CONFIG|CREDENTIAL)/i,
  /^DATABASE_URL$/i,
  /^PG[A-Z_]*$/i,
  /^TEMPORAL_/i,
];

/** Worker variable naming extra variables engines may see (comma-separated names, `PREFIX_*`). */
export const PASS_ENV_VAR = 'KAI_ENGINE_PASS_ENV';

export function isKaiSecretName(name: string): boolean {
  return KAI_SECRETS.some((re) => re.test(name));
}

export interface EngineEnvInput {
  engine: string;
  /** The worker's environment (where PATH, HOME and the engine's keys come from). */
  base: NodeJS.ProcessEnv;
  /** `[engines.<name>] env`. */
  configured?: Record<string, string>;
  /** Variables the invocation needs (`Invocation.env` from buildInvocation). */
  invocation?: Record<string, string>;
  /** kai's per-run context: every key must start with KAI_. */
  context?: Record<string, string>;
}

function passList(base: NodeJS.ProcessEnv): Array<(name: string) => boolean> {
  return (base[PASS_ENV_VAR] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => (entry.endsWith('*') ? (name: string) => name.startsWith(entry.slice(0, -1)) : (name: string) => name === entry));
}

/**
 * The allowlisted environment for one engine run. Later sources win: basics and the engine's
 * keys from the worker, then the configured env, then the invocation's, then kai's context.
 * A kai secret is dropped from every source but the context.
 */
export function buildEngineEnv(input: EngineEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  const put = (name: string, value: string | undefined) => {
    if (value === undefined || isKaiSecretName(name)) return;
    env[name] = value;
  };
  const { base } = input;
  for (const name of BASICS) put(name, base[name]);
  const pass = passList(base);
  for (const [name, value] of Object.entries(base)) {
    if (/^LC_[A-Z]+$/.test(name)) put(name, value);
    // The worker's own KAI_* settings stay with the worker; a run's KAI_* context is added below.
    else if (!/^KAI_/i.test(name) && pass.some((match) => match(name))) put(name, value);
  }
  for (const name of ENGINE_KEY_VARS[input.engine] ?? []) put(name, base[name]);
  for (const [name, value] of Object.entries(input.configured ?? {})) put(name, value);
  for (const [name, value] of Object.entries(input.invocation ?? {})) put(name, value);
  for (const [name, value] of Object.entries(input.context ?? {})) {
    if (!name.startsWith('KAI_')) throw new Error(`engine context variable ${name} must start with KAI_`);
    env[name] = value;
  }
  return env;
}

/** Names a config gives in `[engines.<name>] env` that kai will not pass (for `config check`). */
export function refusedConfiguredNames(configured: Record<string, string> | undefined): string[] {
  return Object.keys(configured ?? {}).filter(isKaiSecretName);
}
