// One masking rule for everything kai prints: `kai config check`, every log line, doctor output.
// A value is hidden when its key names a secret (by pattern, at any depth, any case or spelling:
// GITHUB_TOKEN, accessToken, x-api-key, PGPASSWORD, *_KEY, *_PAT), when it looks like a
// credential whatever its key (lin_api_…, ghp_…, sk-…, AKIA…, JWTs, PEM private keys, Bearer …),
// or when it sits in a string as `--token xyz`, `API_KEY=xyz`, `"secret": "xyz"`, a header line
// or the password of a URL. Every pattern here runs in linear time: log lines can be long.

export const MASK = '********';

export interface MaskOptions {
  /** What replaces a secret (`********` by default; logs use `[redacted]`). */
  censor?: string;
  /** Secret values known in advance (from the configuration and environment): hidden wherever
   *  they appear, whatever their shape. Values shorter than 8 characters are ignored. */
  known?: readonly string[];
  /** Nesting deeper than this is replaced by a note instead of being walked (default 32). */
  maxDepth?: number;
  /** At most this many values are walked per call (default 10 000); the rest is replaced by a note. */
  maxNodes?: number;
  /** Receives every secret string hidden, for callers that must also scrub other output. */
  found?: string[];
}

// Keys whose last word says the value refers to a secret rather than being one (`token_file`,
// `client_key_path`, `token_url`): shown, although URLs still lose their passwords.
const REFERENCE_SUFFIX = new Set(['file', 'path', 'dir', 'url', 'uri', 'endpoint', 'id', 'ids', 'count', 'type', 'kind', 'name', 'ttl', 'expiry', 'expires', 'at', 'env']);
// Names that match the patterns below but are not credentials in kai: an engine's resume id,
// Linear's team and URL keys, boolean flags.
const NOT_SECRET = new Set(['resume_token', 'team_key', 'url_key', 'issue_key', 'sort_key', 'dedupe_key', 'idempotency_key', 'cache_key', 'has_token', 'has_refresh_token', 'key']);
// Words that make a key secret wherever they appear inside one of its words.
const SECRET_WORD = /token|secret|passw(?:or)?d|passphrase|credential|cookie|authorization|signature|private_?key|api_?key|access_?key|secret_?key|session_?key|client_?key/;
// Whole words that make a key secret: `auth`, `basic_auth`, `*_KEY`, `*_PAT`, `pwd` as in DB_PWD.
const SECRET_SEGMENT = new Set(['auth', 'pat', 'pwd', 'bearer', 'jwt', 'otp']);

/** `accessToken` → `access_token`, `X-Api-Key` → `x_api_key`, `AWS_SECRET_ACCESS_KEY` → itself lowered. */
export function normalizeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])(?=[A-Z][a-z])/g, '$1_')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Whether a key (of a config table, a log field, an environment variable, a header, a flag)
 *  names a secret. Case and separators do not matter. */
export function isSecretKey(key: string): boolean {
  const hit = keyCache.get(key);
  if (hit !== undefined) return hit;
  const secret = classifyKey(key);
  if (key.length > 200) return secret;
  if (keyCache.size >= 4096) keyCache.clear();
  keyCache.set(key, secret);
  return secret;
}

// Log lines repeat the same few hundred keys; classifying each once keeps the walk cheap.
const keyCache = new Map<string, boolean>();

function classifyKey(key: string): boolean {
  if (!key) return false;
  const norm = normalizeKey(key.length > 1000 ? `${key.slice(0, 500)}_${key.slice(-500)}` : key);
  if (!norm || NOT_SECRET.has(norm)) return false;
  const words = norm.split('_');
  const last = words[words.length - 1]!;
  if (words.length > 1 && REFERENCE_SUFFIX.has(last)) return false;
  if (SECRET_WORD.test(norm)) return true;
  if (words.some((w) => SECRET_SEGMENT.has(w))) return true;
  // `*_KEY` (ANTHROPIC_API_KEY, STRIPE_KEY, ssh_key), never a bare `key`.
  return words.length > 1 && last === 'key';
}

// Credentials recognisable by their shape alone, wherever they appear.
// `-` and `_` are in the look-behind too: a match never starts inside a run it could scan.
const TOKEN_SHAPES = new RegExp(
  '(?<![A-Za-z0-9_-])(?:' +
  [
    'lin_(?:api|oauth|wh)_[A-Za-z0-9_]{8,}',
    'gh[pousr]_[A-Za-z0-9]{16,}',
    'github_pat_[A-Za-z0-9_]{16,}',
    'sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}',
    '[sr]k_(?:live|test)_[A-Za-z0-9]{16,}',
    'xox[abposr]-[A-Za-z0-9-]{10,}',
    'xapp-[A-Za-z0-9-]{10,}',
    '(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}',
    'AIza[0-9A-Za-z_-]{30,}',
    'glpat-[A-Za-z0-9_-]{16,}',
    'npm_[A-Za-z0-9]{30,}',
    'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
  ]
    .join('|') +
    ')',
  'g',
);
// A PEM private key, from BEGIN to END (or to the end of the text when END is missing).
const PEM_KEY = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s:,.\\]*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----)?/g;
// `Bearer xyz`, `Basic dXNlcjpwdw==` (Basic only with a digit or base64 padding, so prose survives).
const AUTH_SCHEME = /(?<![A-Za-z0-9_])(?:([Bb]earer)\s+([A-Za-z0-9._~+/=-]{8,})|(Basic)\s+(?=[A-Za-z0-9+/]{0,4096}[0-9+/=])([A-Za-z0-9+/]{8,}={0,2}))/g;
// Header lines whose whole value is a secret.
const HEADER_LINE = /(?<![A-Za-z0-9_-])((?:proxy-)?authorization|set-cookie|cookie|x-api-key|api-key|x-auth-token|linear-signature)(\s*:\s*)([^\r\n"]{1,4096})/gi;
// The userinfo of a URL: scheme://user:password@host (the password hidden) or scheme://token@host.
const URL_USERINFO = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)([^\s/?#@:'"]{0,256})(?::([^\s/?#@'"]{1,1024}))?@/g;
// `name=value` (environment, query strings, libpq DSNs, `--api-key=value`).
const ASSIGNMENT = /(?<![A-Za-z0-9_.-])(-{0,2}[A-Za-z_][A-Za-z0-9_.-]{0,100})=("[^"\r\n]{0,4096}"|'[^'\r\n]{0,4096}'|[^\s&;,"'<>)]{1,4096})/g;
// `--token xyz`, `-api-key xyz` on a command line.
const FLAG_VALUE = /(?<![A-Za-z0-9_-])(--?[A-Za-z][A-Za-z0-9_-]{0,100})([ \t]+)([^\s-][^\s]{0,4095})/g;
// `"secret": "xyz"` in JSON or JS text held in a string.
const QUOTED_PAIR = /(["'])([A-Za-z0-9_.-]{1,100})\1(\s*[:=]\s*)(["'])([^"'\r\n]{0,4096})\4/g;

function hider(opts: MaskOptions) {
  const censor = opts.censor ?? MASK;
  return (secret: string): string => {
    if (secret && secret !== censor) opts.found?.push(secret);
    return censor;
  };
}

function unquote(v: string): string {
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] ? v.slice(1, -1) : v;
}

/** A string with every credential in it hidden (see the top of this file). */
export function maskString(value: string, opts: MaskOptions = {}): string {
  const hide = hider(opts);
  const censor = opts.censor ?? MASK;
  let s = value;
  for (const k of opts.known ?? []) {
    if (k.length < 8 || k === censor) continue;
    if (s.includes(k)) s = s.split(k).join(hide(k));
    const enc = encodeURIComponent(k);
    if (enc !== k && s.includes(enc)) s = s.split(enc).join(hide(k));
  }
  s = s.replace(PEM_KEY, (m) => hide(m));
  s = s.replace(URL_USERINFO, (m, scheme: string, user: string, pw: string | undefined) => {
    if (pw !== undefined) return pw === censor ? m : `${scheme}${user}:${hide(safeDecode(pw))}@`;
    // A long bare user part is a token used as the user (https://ghp_…@github.com).
    return user.length >= 16 && user !== censor ? `${scheme}${hide(safeDecode(user))}@` : m;
  });
  s = s.replace(HEADER_LINE, (m, name: string, sep: string, v: string) => (v.trim() === censor ? m : `${name}${sep}${hide(v.trim())}`));
  s = s.replace(AUTH_SCHEME, (m, bearer?: string, bv?: string, basic?: string, basicValue?: string) => {
    const v = bv ?? basicValue ?? '';
    return v === censor ? m : `${bearer ?? basic} ${hide(v)}`;
  });
  s = s.replace(TOKEN_SHAPES, (m) => hide(m));
  s = s.replace(QUOTED_PAIR, (m, q: string, name: string, sep: string, q2: string, v: string) =>
    isSecretKey(name) && v && v !== censor ? `${q}${name}${q}${sep}${q2}${hide(v)}${q2}` : m,
  );
  s = s.replace(ASSIGNMENT, (m, name: string, v: string) => {
    const bare = unquote(v);
    return isSecretKey(name.replace(/^-+/, '')) && bare && bare !== censor ? `${name}=${hide(bare)}` : m;
  });
  s = s.replace(FLAG_VALUE, (m, flag: string, sp: string, v: string) =>
    isSecretKey(flag.replace(/^-+/, '')) && v !== censor ? `${flag}${sp}${hide(unquote(v))}` : m,
  );
  return s;
}

/** The subset of maskString safe on serialized JSON text (a log line): known values, token
 *  shapes and URL passwords, none of which can match across a quote or an escape. */
export function maskTokens(text: string, opts: MaskOptions = {}): string {
  const hide = hider(opts);
  const censor = opts.censor ?? MASK;
  let s = text;
  for (const k of opts.known ?? []) {
    if (k.length < 8 || k === censor || /["\\\u0000-\u001f]/.test(k)) continue;
    if (s.includes(k)) s = s.split(k).join(hide(k));
  }
  s = s.replace(TOKEN_SHAPES, (m) => hide(m));
  s = s.replace(URL_USERINFO, (m, scheme: string, user: string, pw: string | undefined) =>
    pw !== undefined && pw !== censor && !pw.includes('\\') ? `${scheme}${user}:${hide(pw)}@` : m,
  );
  return s;
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

interface Walk {
  opts: MaskOptions;
  nodes: number;
  seen: WeakSet<object>;
}

/** A copy of `value` with every secret hidden, at any depth: objects, arrays, Errors, Maps. */
export function maskValue<T>(value: T, opts: MaskOptions = {}): T {
  return walk(value, '', 0, { opts, nodes: 0, seen: new WeakSet() }) as T;
}

function maskWhole(value: unknown, w: Walk, depth: number): unknown {
  // Everything under a secret key is hidden; numbers and booleans stay (token counts, flags).
  if (typeof value === 'string') return value.length === 0 ? value : hider(w.opts)(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > (w.opts.maxDepth ?? 32)) return '[too deep to log]';
  if (Array.isArray(value)) return value.map((v) => maskWhole(v, w, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskWhole(v, w, depth + 1);
  return out;
}

function walk(value: unknown, key: string, depth: number, w: Walk): unknown {
  if (++w.nodes > (w.opts.maxNodes ?? 10_000)) return '[too large to log]';
  if (value === null || value === undefined) return value;
  if (key && isSecretKey(key)) return maskWhole(value, w, depth);
  if (typeof value === 'string') return maskString(value, w.opts);
  if (typeof value !== 'object') return value;
  if (depth >= (w.opts.maxDepth ?? 32)) return '[too deep to log]';
  if (w.seen.has(value)) return '[Circular]';
  w.seen.add(value);
  try {
    if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
    if (value instanceof Error) return walk(errorFields(value), key, depth + 1, w);
    if (Array.isArray(value)) return maskArgs(value, depth, w);
    if (value instanceof Map) return walk(Object.fromEntries(value), key, depth + 1, w);
    if (value instanceof Set) return walk([...value], key, depth + 1, w);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(value), key, depth + 1, w);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, k, depth + 1, w);
    return out;
  } finally {
    w.seen.delete(value);
  }
}

/** Arrays, including argument vectors: `["--token", "xyz"]` hides the element after the flag. */
function maskArgs(list: unknown[], depth: number, w: Walk): unknown[] {
  const out: unknown[] = [];
  let hideNext = false;
  for (const item of list) {
    if (hideNext && typeof item === 'string') {
      out.push(item.length ? hider(w.opts)(item) : item);
      hideNext = false;
      continue;
    }
    hideNext = false;
    if (typeof item === 'string') {
      const flag = /^--?([A-Za-z][A-Za-z0-9_-]{0,100})$/.exec(item);
      if (flag && isSecretKey(flag[1]!)) hideNext = true;
    }
    out.push(walk(item, '', depth + 1, w));
  }
  return out;
}

/** The fields pino prints for an Error (type, message, stack, code, own props, cause). */
function errorFields(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.constructor?.name || err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) if (!(k in out)) out[k] = v;
  if ('cause' in err && err.cause !== undefined) out.cause = err.cause;
  if (err instanceof AggregateError) out.aggregateErrors = err.errors;
  return out;
}

/** Every secret string `value` holds by the rules above (key, shape, URL password, flag value). */
export function findSecrets(value: unknown, opts: Omit<MaskOptions, 'found'> = {}): string[] {
  const found: string[] = [];
  maskValue(value, { ...opts, found });
  return [...new Set(found)];
}

/** Secret values in an environment (GITHUB_TOKEN, PGPASSWORD, DATABASE_URL's password, ...). */
export function envSecretValues(env: NodeJS.ProcessEnv): string[] {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string' && v) plain[k] = v;
  return findSecrets(plain, { maxNodes: 100_000 });
}
