// Which configuration values are secrets, and a masked copy of a configuration for printing.
import type { KaiConfig } from './schema';

export const MASK = '********';

// By name: `token`, `oauth_token`, `client_secret`, `webhook_signing_secret`, `api_key`, and
// environment-style names such as GITHUB_TOKEN or ANTHROPIC_API_KEY under [engines.x.env].
const SECRET_KEY = /(^|_)(token|secret|password|passwd|api_?key|private_key|credentials?|auth)$/i;
/** Keys holding URLs that may embed a password (postgresql://user:pass@host/db). */
const URL_KEY = /(^|_)(url|dsn)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** The URL with any password replaced by the mask; unparsable URLs are masked whole when
 *  they look like they carry credentials. */
export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (!url.password && !url.searchParams.has('password')) return value;
    if (url.password) url.password = MASK;
    if (url.searchParams.has('password')) url.searchParams.set('password', MASK);
    return url.toString().replace(encodeURIComponent(MASK), MASK);
  } catch {
    return /:[^/@]+@|password=/i.test(value) ? MASK : value;
  }
}

function maskValue(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (isSecretKey(key)) return typeof value === 'string' && value.length === 0 ? value : MASK;
  if (URL_KEY.test(key) && typeof value === 'string') return maskUrl(value);
  return maskDeep(value);
}

function maskDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => maskDeep(v));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(k, v);
    return out;
  }
  return value;
}

/** A deep copy of the configuration with every secret replaced by `********` and passwords in
 *  connection URLs masked. Safe to print or log. */
export function maskSecrets<T extends object = KaiConfig>(config: T): T {
  return maskDeep(config) as T;
}

/** Every secret string held in a configuration, for tests and log scrubbing. */
export function secretValues(config: object): string[] {
  const found: string[] = [];
  const walk = (key: string, value: unknown) => {
    if (typeof value === 'string') {
      if (isSecretKey(key) && value) found.push(value);
      else if (URL_KEY.test(key)) {
        try {
          const pw = new URL(value).password;
          if (pw) found.push(decodeURIComponent(pw));
        } catch {
          /* not a URL */
        }
      }
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(k, v);
    }
  };
  walk('', config);
  return found;
}
