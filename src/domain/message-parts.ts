// Fitting a long final message into Linear's activity body limit: split into parts, or trim,
// on paragraph boundaries, never leaving a code fence open (a broken fence turns the rest of
// the message into code). Pure and deterministic (no I/O, no clock): the workflow calls
// `messageParts` to know how many activity ids a final message needs.

interface Unit {
  text: string;
  /** The fence's opening line when the unit is one fenced code block. */
  fence?: string;
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/** Paragraphs (separated by blank lines) and fenced code blocks, each kept whole. */
export function toUnits(body: string): Unit[] {
  const units: Unit[] = [];
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  let current: string[] = [];
  let fence: { marker: string; open: string } | undefined;
  const flush = (asFence?: string) => {
    if (current.length && current.some((l) => l.trim() !== '')) units.push({ text: current.join('\n'), fence: asFence });
    current = [];
  };
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (fence) {
      current.push(line);
      if (m && m[1]!.startsWith(fence.marker[0]!) && m[1]!.length >= fence.marker.length && line.trim() === m[1]) {
        flush(fence.open);
        fence = undefined;
      }
      continue;
    }
    if (m) {
      flush();
      fence = { marker: m[1]!, open: line };
      current.push(line);
      continue;
    }
    if (line.trim() === '') flush();
    else current.push(line);
  }
  // An unterminated fence in the input stays one unit; it is closed when emitted.
  if (fence) {
    current.push(closingFence(fence.open));
    flush(fence.open);
  } else flush();
  return units;
}

function closingFence(open: string): string {
  return FENCE.exec(open)![1]!;
}

/** Breaks one over-long unit into pieces of at most `max` characters, each fence closed. */
function breakUnit(unit: Unit, max: number): string[] {
  if (unit.fence) {
    const close = closingFence(unit.fence);
    const inner = unit.text.split('\n').slice(1, -1);
    const room = max - unit.fence.length - close.length - 2;
    if (room < 20) return hardSplit(unit.text, max);
    const pieces: string[] = [];
    let chunk: string[] = [];
    let size = 0;
    const push = () => {
      if (chunk.length) pieces.push([unit.fence!, ...chunk, close].join('\n'));
      chunk = [];
      size = 0;
    };
    for (const line of inner.flatMap((l) => (l.length > room ? hardSplit(l, room) : [l]))) {
      if (chunk.length && size + 1 + line.length > room) push();
      size = chunk.length ? size + 1 + line.length : line.length;
      chunk.push(line);
    }
    push();
    return pieces;
  }
  // Prose: prefer line breaks, then sentence ends, then spaces.
  const pieces: string[] = [];
  let rest = unit.text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = window.lastIndexOf('\n');
    if (cut < max / 2) cut = Math.max(window.lastIndexOf('. '), window.lastIndexOf('! '), window.lastIndexOf('? ')) + 1;
    if (cut < max / 2) cut = window.lastIndexOf(' ');
    if (cut < max / 2) cut = max;
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

function hardSplit(text: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += max) out.push(text.slice(i, i + max));
  return out;
}

/** Splits `body` into parts of at most `max` characters at paragraph boundaries. */
export function splitMessage(body: string, max: number): string[] {
  if (max < 1) throw new Error('max must be positive');
  if (body.length <= max) return [body];
  const parts: string[] = [];
  let current = '';
  for (const unit of toUnits(body)) {
    const pieces = unit.text.length > max ? breakUnit(unit, max) : [unit.text];
    for (const piece of pieces) {
      if (!current) current = piece;
      else if (current.length + 2 + piece.length <= max) current += `\n\n${piece}`;
      else {
        parts.push(current);
        current = piece;
      }
    }
  }
  if (current) parts.push(current);
  return parts;
}

/** Keeps as much of `body` as fits in `max` characters, ending on a paragraph boundary, and
 *  says how much was left out. */
export function trimMessage(body: string, max: number): string {
  if (body.length <= max) return body;
  const notice = (n: number) => `\n\n_… ${n} more characters trimmed._`;
  const room = max - notice(body.length).length;
  if (room < 1) return body.slice(0, max);
  let kept = '';
  for (const unit of toUnits(body)) {
    const candidate = kept ? `${kept}\n\n${unit.text}` : unit.text;
    if (candidate.length <= room) {
      kept = candidate;
      continue;
    }
    if (!kept) kept = breakUnit(unit, room)[0] ?? '';
    break;
  }
  return kept + notice(Math.max(0, body.length - kept.length));
}

/** The parts to post for a final message under the configured overflow policy. */
export function fitMessage(body: string, max: number, overflow: 'split' | 'trim'): string[] {
  return overflow === 'split' ? splitMessage(body, max) : [trimMessage(body, max)];
}

/** Linear's body limit kai assumes when none is configured (`transports.linear.max_body_chars`). */
export const DEFAULT_MAX_BODY_CHARS = 10_000;

/** Room kept in every part for its `_Part i of n_` line. */
const PART_HEADER_ROOM = 24;

function partHeader(i: number, n: number): string {
  return `_Part ${i} of ${n}_\n\n`;
}

/**
 * The parts a final message is posted as: every part at most `maxChars` long, split on
 * paragraph boundaries with code fences kept closed. One part when the body fits. When it does
 * not, each part starts with `_Part i of n_`; all but the last go out as non-ephemeral thoughts
 * and the last is the one `response` (or `error`), so the session ends with a single final
 * activity and a single comment. A workflow needs `messageParts(body, max).length - 1` ids
 * besides the final activity's.
 */
export function messageParts(body: string, maxChars: number = DEFAULT_MAX_BODY_CHARS): string[] {
  if (!Number.isFinite(maxChars) || maxChars < 1) throw new Error(`maxChars must be a positive number, not ${maxChars}`);
  if (body.length <= maxChars) return [body];
  // Tiny limits leave no room for a header: split bare.
  if (maxChars <= PART_HEADER_ROOM * 2) return splitMessage(body, maxChars);
  const pieces = splitMessage(body, maxChars - PART_HEADER_ROOM);
  return pieces.map((p, i) => `${partHeader(i + 1, pieces.length)}${p}`);
}
