// What users write in an issue title or labels to steer a run: `[engine:x]`, `[model:x]`,
// `[reasoning:x]`, labels `engine > x`, and a leading `@branch/name`. Pure.

export type DirectiveKey = 'engine' | 'model' | 'reasoning';
export type Directives = Partial<Record<DirectiveKey, string>>;

const DIRECTIVE = /[ \t]*\[\s*(engine|model|reasoning)\s*:\s*([^\]\s]+)\s*\][ \t]*/gi;
const BRANCH_PREFIX = /^\s*@(\S+)(?:\s+|$)/;
const LABEL = /^\s*(engine|model|reasoning)\s*(?:>|:|\/)\s*(\S.*?)\s*$/i;

export interface ParsedTitle {
  /** The title without directives and branch prefix. */
  text: string;
  directives: Directives;
  /** The `@branch/name` prefix, without the `@`. Validated by the git activities. */
  branch?: string;
}

/** Directives found in a text (first of each key wins) and the text without them. */
export function extractDirectives(text: string): { text: string; directives: Directives } {
  const directives: Directives = {};
  const stripped = text.replace(DIRECTIVE, (_m, key: string, value: string) => {
    const k = key.toLowerCase() as DirectiveKey;
    if (directives[k] === undefined) directives[k] = value;
    return ' ';
  });
  return { text: stripped.trim(), directives };
}

export function parseTitle(title: string): ParsedTitle {
  let rest = title;
  let branch: string | undefined;
  const m = BRANCH_PREFIX.exec(rest);
  if (m) {
    branch = m[1];
    rest = rest.slice(m[0].length);
  }
  const { text, directives } = extractDirectives(rest);
  // A branch prefix after a leading directive (`[engine:codex] @fix/x ...`) counts too.
  if (!branch) {
    const again = BRANCH_PREFIX.exec(text);
    if (again) return { text: text.slice(again[0].length).trim(), directives, branch: again[1] };
  }
  return { text, directives, branch };
}

/** Directives from labels named `engine > x`, `model > x`, `reasoning > x` (first wins). */
export function labelDirectives(labels: readonly string[]): Directives {
  const out: Directives = {};
  for (const label of labels) {
    const m = LABEL.exec(label);
    if (!m) continue;
    const k = m[1]!.toLowerCase() as DirectiveKey;
    if (out[k] === undefined) out[k] = m[2]!;
  }
  return out;
}
