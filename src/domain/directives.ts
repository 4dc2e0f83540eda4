// What users write in an issue title, a prompt or labels to steer a run: `[engine:x]`,
// `[model:x]`, `[reasoning:x]`, labels `engine > x`, and a leading `@branch/name`.
// A domain rule shared by engine resolution and git. Pure, and linear in the input's length:
// titles and prompts come from users and may be huge or hostile, so no backtracking regex.

export type DirectiveKey = 'engine' | 'model' | 'reasoning';
export type Directives = Partial<Record<DirectiveKey, string>>;

const KEYS: readonly DirectiveKey[] = ['engine', 'model', 'reasoning'];
const LONGEST_KEY = Math.max(...KEYS.map((k) => k.length));

export interface ParsedTitle {
  /** The title without directives and branch prefix. */
  text: string;
  directives: Directives;
  /** The `@branch/name` prefix, without the `@`. Validated by the git activities. */
  branch?: string;
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isBlank = (ch: string | undefined): boolean => ch === ' ' || ch === '\t';

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i++;
  return i;
}

function keyAt(text: string, i: number): { key: DirectiveKey; end: number } | undefined {
  const word = text.slice(i, i + LONGEST_KEY).toLowerCase();
  for (const key of KEYS) if (word.startsWith(key)) return { key, end: i + key.length };
  return undefined;
}

/** Directives found in a text (first of each key wins) and the text without them. Each
 *  `[key:value]` (spaces allowed inside the brackets, none in the value) is replaced by one
 *  space together with the spaces and tabs around it. */
export function extractDirectives(text: string): { text: string; directives: Directives } {
  const directives: Directives = {};
  const out: string[] = [];
  let copied = 0; // text[0, copied) is already in `out` or was removed
  // A value runs to the next space or `]`; later candidates inside the same run share its
  // end, so it is found once (this keeps `[engine:a[engine:a[engine:a...` linear).
  let valueRunEnd = -1;
  let at = text.indexOf('[');
  while (at !== -1) {
    const found = directiveAt(text, at, (start) => {
      if (start > valueRunEnd) {
        valueRunEnd = start;
        while (valueRunEnd < text.length && text[valueRunEnd] !== ']' && !isSpace(text[valueRunEnd])) valueRunEnd++;
      }
      return valueRunEnd;
    });
    if (!found) {
      at = text.indexOf('[', at + 1);
      continue;
    }
    let from = at;
    while (from > copied && isBlank(text[from - 1])) from--;
    let to = found.end;
    while (isBlank(text[to])) to++;
    out.push(text.slice(copied, from), ' ');
    copied = to;
    if (directives[found.key] === undefined) directives[found.key] = found.value;
    at = text.indexOf('[', to);
  }
  out.push(text.slice(copied));
  return { text: out.join('').trim(), directives };
}

function directiveAt(
  text: string,
  open: number,
  valueEnd: (start: number) => number,
): { key: DirectiveKey; value: string; end: number } | undefined {
  const k = keyAt(text, skipSpace(text, open + 1));
  if (!k) return undefined;
  let i = skipSpace(text, k.end);
  if (text[i] !== ':') return undefined;
  const start = skipSpace(text, i + 1);
  const end = valueEnd(start);
  if (end === start) return undefined;
  i = skipSpace(text, end);
  if (text[i] !== ']') return undefined;
  return { key: k.key, value: text.slice(start, end), end: i + 1 };
}

/** A leading `@name` (after optional spaces) and the text after it. */
function branchPrefix(text: string): { branch: string; rest: string } | undefined {
  const at = skipSpace(text, 0);
  if (text[at] !== '@') return undefined;
  let end = at + 1;
  while (end < text.length && !isSpace(text[end])) end++;
  if (end === at + 1) return undefined;
  return { branch: text.slice(at + 1, end), rest: text.slice(skipSpace(text, end)) };
}

export function parseTitle(title: string): ParsedTitle {
  const prefix = branchPrefix(title);
  const { text, directives } = extractDirectives(prefix ? prefix.rest : title);
  if (prefix) return { text, directives, branch: prefix.branch };
  // A branch prefix after a leading directive (`[engine:codex] @fix/x ...`) counts too.
  const again = branchPrefix(text);
  if (again) return { text: again.rest.trim(), directives, branch: again.branch };
  return { text, directives };
}

/** Directives from labels named `engine > x`, `model > x`, `reasoning > x` (also `:` or
 *  `/` as separator; first of each key wins). */
export function labelDirectives(labels: readonly string[]): Directives {
  const out: Directives = {};
  for (const label of labels) {
    const d = labelDirective(label);
    if (d && out[d.key] === undefined) out[d.key] = d.value;
  }
  return out;
}

function labelDirective(label: string): { key: DirectiveKey; value: string } | undefined {
  const k = keyAt(label, skipSpace(label, 0));
  if (!k) return undefined;
  const sep = skipSpace(label, k.end);
  if (label[sep] !== '>' && label[sep] !== ':' && label[sep] !== '/') return undefined;
  const value = label.slice(sep + 1).trim();
  if (!value || /[\n\r\u2028\u2029]/.test(value)) return undefined;
  return { key: k.key, value };
}
