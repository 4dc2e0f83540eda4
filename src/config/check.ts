// `kai config check`: validate the configuration and print the effective result, secrets masked.
import { stringify } from 'smol-toml';
import { ConfigError } from './errors';
import { readConfig, type LoadConfigOptions } from './load';
import { maskSecrets, secretValues } from './secrets';
import { maskString } from '../observability/mask';

export interface ConfigCheckOptions extends LoadConfigOptions {
  format?: 'toml' | 'json';
}

export interface ConfigCheckResult {
  ok: boolean;
  /** What to print: the masked effective configuration, or the problems found. */
  output: string;
  /** Process exit code: 0 valid, 1 invalid. */
  exitCode: 0 | 1;
}

/** Never throws for a configuration problem: the result says what was wrong. */
export function configCheck(opts: ConfigCheckOptions = {}): ConfigCheckResult {
  let loaded;
  try {
    loaded = readConfig(opts);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, exitCode: 1, output: `${err.message}\n` };
    throw err;
  }
  // Values found secret anywhere are also hidden where they reappear under an innocent key.
  const known = secretValues(loaded.config);
  const masked = maskSecrets(loaded.config, known);
  const header: string[] = [];
  header.push(
    loaded.path
      ? `# kai configuration: ${loaded.path} (${loaded.origin === 'cwd' ? './kai.toml' : `from ${loaded.origin}`}), valid`
      : '# kai configuration: no file found (--config, KAI_CONFIG, ./kai.toml); built-in defaults, valid',
  );
  if (loaded.fromEnv.length) header.push(`# from the environment: ${loaded.fromEnv.join(', ')}`);
  for (const w of loaded.warnings) header.push(`# note: ${maskString(w, { known })}`);
  header.push('# secrets are shown as ********');
  const body = opts.format === 'json' ? JSON.stringify(masked, null, 2) : stringify(masked as Record<string, unknown>);
  return { ok: true, exitCode: 0, output: `${header.join('\n')}\n\n${body}\n` };
}
