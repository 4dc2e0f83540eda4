// Turns zod issues into messages a user can act on: the key path, what was expected, what was
// found, and for an unknown key the nearest known one. Values of secret keys are never shown.
import type { z } from 'zod';
import { isSecretKey } from './secrets';

export class ConfigError extends Error {
  constructor(
    /** Where the configuration came from: a file path, or "defaults". */
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatKeyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, i) => {
      if (typeof part === 'number') return `[${part}]`;
      const text = String(part);
      const plain = /^[A-Za-z0-9_-]+$/.test(text) ? text : JSON.stringify(text);
      return i === 0 ? plain : `.${plain}`;
    })
    .join('');
}

/** A short description of a value as found in the file, with secret values withheld. */
export function describeFound(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return secret ? 'an array' : `an array ${truncate(JSON.stringify(value))}`;
  switch (typeof value) {
    case 'string':
      return secret ? 'a string (value withheld)' : `the string ${truncate(JSON.stringify(value))}`;
    case 'number':
      return secret ? 'a number' : Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case 'boolean':
      return secret ? 'a boolean' : `the boolean ${value}`;
    case 'object':
      if (value instanceof Date) return 'a date';
      return 'a table';
    default:
      return typeof value;
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a table',
  array: 'an array',
  record: 'a table',
};

/** Levenshtein distance, small inputs only (config keys). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key nearest to `key`, when it is close enough to be a likely typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const score = editDistance(lower, candidate.toLowerCase());
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(key.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part as string];
  }
  return cur;
}

/** The object schema's keys at a path, looking through defaults, optionals and records. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: unknown = schema;
  const step = (s: unknown): unknown => {
    // zod 4 keeps the structure on `_zod.def`; unwrap wrappers until an object or record.
    for (let i = 0; i < 10; i++) {
      const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return s;
      if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type as string)) {
        s = def.innerType;
        continue;
      }
      if (def.type === 'pipe') {
        s = def.in;
        continue;
      }
      return s;
    }
    return s;
  };
  for (const part of path) {
    const def = (step(cur) as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) return [];
    if (def.type === 'object') cur = (def.shape as Record<string, unknown>)[part as string];
    else if (def.type === 'record') cur = def.valueType;
    else if (def.type === 'array') cur = def.element;
    else return [];
  }
  const def = (step(cur) as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
  return def?.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

function lastKey(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  return last === undefined ? '' : String(last);
}

/** One message per zod issue, in the order zod reported them. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.ZodType): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    const where = formatKeyPath(path);
    const found = valueAt(input, path);
    const secret = isSecretKey(lastKey(path));
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, path);
        for (const key of issue.keys) {
          const full = formatKeyPath([...path, key]);
          const hint = didYouMean(key, known);
          const section = path.length ? `[${formatKeyPath(path)}]` : 'the top level';
          out.push(
            `${full}: unknown key in ${section}.` +
              (hint ? ` Did you mean "${hint}"?` : known.length ? ` Known keys: ${known.join(', ')}.` : ''),
          );
        }
        break;
      }
      case 'invalid_type': {
        const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
        if (found === undefined) out.push(`${where}: required, expected ${expected}, found nothing.`);
        else out.push(`${where}: expected ${expected}, found ${describeFound(found, secret)}.`);
        break;
      }
      case 'invalid_value': {
        const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
        out.push(`${where}: expected one of ${options}, found ${describeFound(found, secret)}.`);
        break;
      }
      case 'too_small': {
        const bound = issue.inclusive === false ? 'greater than' : 'at least';
        const what = issue.origin === 'string' ? `a string of ${bound} ${issue.minimum} characters` : issue.origin === 'array' ? `${bound} ${issue.minimum} items` : `a number ${bound} ${issue.minimum}`;
        out.push(`${where}: expected ${what}, found ${describeFound(found, secret)}.`);
        break;
      }
      case 'too_big': {
        const bound = issue.inclusive === false ? 'less than' : 'at most';
        const what = issue.origin === 'string' ? `a string of ${bound} ${issue.maximum} characters` : issue.origin === 'array' ? `${bound} ${issue.maximum} items` : `a number ${bound} ${issue.maximum}`;
        out.push(`${where}: expected ${what}, found ${describeFound(found, secret)}.`);
        break;
      }
      case 'invalid_format': {
        const format = issue.format === 'starts_with' ? `a string starting with "${(issue as { prefix?: string }).prefix ?? ''}"` : `a valid ${issue.format}`;
        out.push(`${where}: expected ${format}, found ${describeFound(found, secret)}.`);
        break;
      }
      default:
        out.push(`${where}: ${issue.message}; found ${describeFound(found, secret)}.`);
    }
  }
  return out;
}
