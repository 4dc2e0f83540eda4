// Loads kai.toml: finds the file, parses TOML, sets aside the parts of a takopi file that kai
// does not use, applies secrets from the environment and validates with the zod schema.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError, describeIssues, didYouMean } from './errors';
import { configSchema, type KaiConfig } from './schema';

export const CONFIG_FILE_NAME = 'kai.toml';
export const CONFIG_ENV_VAR = 'KAI_CONFIG';

export interface LoadConfigOptions {
  /** `--config`: wins over KAI_CONFIG and ./kai.toml; the file must exist. */
  path?: string;
  /** Environment for KAI_CONFIG and secret overrides; process.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Where ./kai.toml is looked for; process.cwd() when absent. */
  cwd?: string;
}

export interface LoadedConfig {
  config: KaiConfig;
  /** The file read, or undefined when no file was found and the defaults apply. */
  path: string | undefined;
  /** How the file was chosen. */
  origin: '--config' | typeof CONFIG_ENV_VAR | 'cwd' | 'defaults';
  /** Keys taken from the environment (names of the variables), for `config check`. */
  fromEnv: string[];
  /** takopi sections that kai accepts and ignores, and similar notes for the user. */
  warnings: string[];
}

/** Environment variables that override the file, and the key each one sets. Secrets belong
 *  here rather than in a file checked into a repo or a ConfigMap. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: readonly string[] }> = [
  { env: 'LINEAR_OAUTH_TOKEN', path: ['transports', 'linear', 'oauth_token'] },
  { env: 'LINEAR_APP_ID', path: ['transports', 'linear', 'app_id'] },
  { env: 'LINEAR_WEBHOOK_SECRET', path: ['transports', 'linear', 'webhook_signing_secret'] },
  { env: 'LINEAR_CLIENT_ID', path: ['linear', 'client_id'] },
  { env: 'LINEAR_CLIENT_SECRET', path: ['linear', 'client_secret'] },
  { env: 'LINEAR_TOKEN_FILE', path: ['linear', 'token_file'] },
  { env: 'LINEAR_API_URL', path: ['linear', 'api_url'] },
  { env: 'DATABASE_URL', path: ['database', 'url'] },
  { env: 'GITHUB_TOKEN', path: ['github', 'token'] },
  { env: 'KAI_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'KAI_LOG_FORMAT', path: ['log', 'format'] },
];

/** Top-level keys of takopi's own file that mean nothing to kai. */
const TAKOPI_TOP_LEVEL_KEYS = ['watch_config', 'default_project', 'bot_token', 'chat_id'];
/** takopi's engine tables (`[codex]`, `[claude]`, ...): kai configures engines under [engines.<name>]. */
const TAKOPI_ENGINE_TABLES = ['codex', 'claude', 'pi', 'opencode', 'gemini', 'amp', 'cursor'];

/** --config, then KAI_CONFIG, then ./kai.toml; undefined when none applies (defaults). */
export function resolveConfigPath(opts: LoadConfigOptions = {}): { path: string | undefined; origin: LoadedConfig['origin'] } {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.path) return { path: resolve(cwd, opts.path), origin: '--config' };
  const fromEnv = env[CONFIG_ENV_VAR];
  if (fromEnv) return { path: resolve(cwd, fromEnv), origin: CONFIG_ENV_VAR };
  const local = join(cwd, CONFIG_FILE_NAME);
  if (existsSync(local)) return { path: local, origin: 'cwd' };
  return { path: undefined, origin: 'defaults' };
}

/** Finds, reads and validates the configuration. Throws ConfigError naming every problem. */
export function readConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const { path, origin } = resolveConfigPath(opts);
  let raw: Record<string, unknown> = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const how = origin === '--config' ? 'given with --config' : origin === CONFIG_ENV_VAR ? `named by ${CONFIG_ENV_VAR}` : 'found';
      throw new ConfigError(path, [`cannot read the configuration file ${how}: ${(err as NodeJS.ErrnoException).code ?? String(err)}. Check the path, or unset it to run with defaults.`]);
    }
    raw = parseTomlText(text, path);
  }
  return validateConfig(raw, { env, path, origin });
}

/** The validated configuration (see readConfig). */
export function loadConfig(opts: LoadConfigOptions = {}): KaiConfig {
  return readConfig(opts).config;
}

export function parseTomlText(text: string, source: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      // smol-toml's message quotes the offending line, which may hold a secret: keep position only.
      const reason = err.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML';
      throw new ConfigError(source, [`line ${err.line}, column ${err.column}: not valid TOML (${reason}).`]);
    }
    throw err;
  }
}

/** Validates an already-parsed document (a TOML table) with env overrides applied. */
export function validateConfig(
  raw: Record<string, unknown>,
  opts: { env?: NodeJS.ProcessEnv; path?: string; origin?: LoadedConfig['origin'] } = {},
): LoadedConfig {
  const env = opts.env ?? process.env;
  const source = opts.path ?? 'the default configuration';
  const doc = structuredClone(raw);
  const warnings = setAsideTakopiSections(doc);
  const problems = checkForeignSections(doc);
  const fromEnv: string[] = [];
  for (const { env: name, path } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(doc, path, value);
    fromEnv.push(name);
  }
  const result = configSchema.safeParse(doc, { reportInput: false });
  if (!result.success) problems.push(...describeIssues(result.error.issues, doc, configSchema));
  if (problems.length || !result.success) throw new ConfigError(source, problems);
  const config = result.data;
  finishPaths(config, opts.path ? dirname(opts.path) : process.cwd(), env);
  // One effective database URL, whichever key (or DATABASE_URL) gave it.
  const dbUrl = config.database.url ?? config.transports.linear.gateway_database_url;
  if (dbUrl) {
    config.database.url = dbUrl;
    if (env.DATABASE_URL) config.transports.linear.gateway_database_url = dbUrl;
  }
  if (config.transport !== 'linear') warnings.push(`transport = ${JSON.stringify(config.transport)}: kai only speaks Linear; the value is ignored.`);
  return { config, path: opts.path, origin: opts.origin ?? (opts.path ? '--config' : 'defaults'), fromEnv, warnings };
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function setPath(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = doc;
  for (const key of path.slice(0, -1)) {
    if (!isTable(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

// A takopi user's file may carry sections for takopi's other transports, engines and plugins.
// kai accepts those unchanged so the same file works for both, ignores them, and says so.
function setAsideTakopiSections(doc: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  for (const key of TAKOPI_TOP_LEVEL_KEYS) {
    if (key in doc) {
      delete doc[key];
      warnings.push(`${key}: a takopi setting that kai does not use; ignored.`);
    }
  }
  for (const key of TAKOPI_ENGINE_TABLES) {
    if (isTable(doc[key])) {
      delete doc[key];
      warnings.push(`[${key}]: takopi's engine table; kai ignores it and reads engine settings from [engines.${key}].`);
    }
  }
  for (const section of ['transports', 'plugins'] as const) {
    const table = doc[section];
    if (!isTable(table)) continue;
    for (const key of Object.keys(table)) {
      if (key === 'linear') continue;
      if (section === 'plugins' && key === 'enabled') {
        delete table[key];
        continue;
      }
      if (didYouMean(key, ['linear'])) continue; // a typo: reported as an error below
      delete table[key];
      warnings.push(`[${section}.${key}]: not used by kai (it only reads [${section}.linear]); ignored.`);
    }
  }
  return warnings;
}

/** A near-miss of `linear` under [transports] or [plugins] is a typo, not another plugin. */
function checkForeignSections(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const section of ['transports', 'plugins'] as const) {
    const table = doc[section];
    if (!isTable(table)) continue;
    for (const key of Object.keys(table)) {
      if (key !== 'linear' && didYouMean(key, ['linear'])) {
        problems.push(`${section}.${key}: unknown section [${section}.${key}]. Did you mean "linear"?`);
        delete table[key];
      }
    }
  }
  return problems;
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~') return env.HOME ?? homedir();
  if (p.startsWith('~/')) return join(env.HOME ?? homedir(), p.slice(2));
  return p;
}

// As in takopi: `~` expands and relative project paths are relative to the config file.
function finishPaths(config: KaiConfig, baseDir: string, env: NodeJS.ProcessEnv): void {
  for (const project of Object.values(config.projects)) {
    if (project.path === undefined) continue;
    const p = expandHome(project.path, env);
    project.path = isAbsolute(p) ? p : resolve(baseDir, p);
  }
  if (config.linear.token_file) {
    const p = expandHome(config.linear.token_file, env);
    config.linear.token_file = isAbsolute(p) ? p : resolve(baseDir, p);
  }
}
