// Splitting and trimming final messages at paragraph boundaries without breaking code fences,
// and the parts a long final message is posted as (src/domain/message-parts.ts).
import { fitMessage, splitMessage, trimMessage } from '../../../src/activities/linear/message';
import { messageParts, DEFAULT_MAX_BODY_CHARS } from '../../../src/domain/message-parts';

const para = (n: number, len = 80) => `Paragraph ${n} ${'x'.repeat(len - 12 - String(n).length)}`;
const fencesBalanced = (s: string) => (s.match(/^```/gm) ?? []).length % 2 === 0;

describe('splitMessage', () => {
  test('a body within the limit is one part, unchanged', () => {
    expect(splitMessage('short', 200)).toEqual(['short']);
  });

  test('splits on paragraph boundaries, every part within the limit, nothing lost', () => {
    const body = Array.from({ length: 10 }, (_, i) => para(i)).join('\n\n');
    const parts = splitMessage(body, 200);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= 200)).toBe(true);
    expect(parts.join('\n\n')).toBe(body);
    expect(parts.every((p) => p.startsWith('Paragraph'))).toBe(true);
  });

  test('keeps a code block whole when it fits, even with blank lines inside', () => {
    const code = ['```ts', 'const a = 1;', '', 'const b = 2;', '```'].join('\n');
    const body = [para(1, 150), code, para(2, 150)].join('\n\n');
    const parts = splitMessage(body, 160);
    expect(parts).toContain(code);
    expect(parts.every(fencesBalanced)).toBe(true);
  });

  test('a code block longer than the limit is split into closed, reopened fences', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} of the program`);
    const body = ['Intro.', ['```python', ...lines, '```'].join('\n')].join('\n\n');
    const parts = splitMessage(body, 200);
    expect(parts.every((p) => p.length <= 200)).toBe(true);
    expect(parts.every(fencesBalanced)).toBe(true);
    expect(parts.slice(1).every((p) => p.startsWith('```python'))).toBe(true);
    const code = parts.join('\n').split('\n').filter((l) => l.startsWith('line '));
    expect(code).toEqual(lines);
  });

  test('an overlong paragraph is broken at sentence or word boundaries', () => {
    const body = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const parts = splitMessage(body, 100);
    expect(parts.every((p) => p.length <= 100)).toBe(true);
    expect(parts.every((p) => p.endsWith('.'))).toBe(true);
    expect(parts.join(' ')).toBe(body);
  });
});

describe('trimMessage', () => {
  test('a body within the limit is unchanged', () => {
    expect(trimMessage('fine', 100)).toBe('fine');
  });

  test('keeps whole paragraphs and says how much was trimmed', () => {
    const body = Array.from({ length: 10 }, (_, i) => para(i)).join('\n\n');
    const out = trimMessage(body, 300);
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out.startsWith(`${para(0)}\n\n${para(1)}`)).toBe(true);
    expect(out).toMatch(/_… \d+ more characters trimmed\._$/);
    expect(out).not.toContain(para(9));
  });

  test('never leaves a code fence open', () => {
    const body = ['```js', ...Array.from({ length: 50 }, (_, i) => `call(${i});`), '```', '', 'After.'].join('\n');
    const out = trimMessage(body, 250);
    expect(out.length).toBeLessThanOrEqual(250);
    expect(fencesBalanced(out)).toBe(true);
    expect(out.startsWith('```js\ncall(0);')).toBe(true);
  });
});

test('fitMessage follows message_overflow', () => {
  const body = Array.from({ length: 10 }, (_, i) => para(i)).join('\n\n');
  expect(fitMessage(body, 200, 'split').length).toBeGreaterThan(1);
  expect(fitMessage(body, 200, 'trim')).toHaveLength(1);
});

describe('messageParts', () => {
  test('a body within the limit is one part, unchanged', () => {
    expect(messageParts('All done.', 100)).toEqual(['All done.']);
    expect(messageParts('x'.repeat(DEFAULT_MAX_BODY_CHARS))).toHaveLength(1);
    expect(messageParts('x'.repeat(DEFAULT_MAX_BODY_CHARS + 1)).length).toBe(2);
  });

  test('a long body becomes numbered parts within the limit, in order, nothing lost', () => {
    const paras = Array.from({ length: 12 }, (_, i) => para(i, 90));
    const body = paras.join('\n\n');
    const parts = messageParts(body, 300);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.every((p) => p.length <= 300)).toBe(true);
    parts.forEach((p, i) => expect(p.startsWith(`_Part ${i + 1} of ${parts.length}_\n\n`)).toBe(true));
    const rejoined = parts.map((p) => p.replace(/^_Part \d+ of \d+_\n\n/, '')).join('\n\n');
    expect(rejoined).toBe(body);
  });

  test('is deterministic (the workflow and the activity agree on the count) and keeps fences closed', () => {
    const body = ['Intro.', ['```sh', ...Array.from({ length: 60 }, (_, i) => `echo ${i}`), '```'].join('\n'), 'Outro.'].join('\n\n');
    expect(messageParts(body, 250)).toEqual(messageParts(body, 250));
    expect(messageParts(body, 250).every(fencesBalanced)).toBe(true);
  });

  test('a limit too small for part headers still splits within it; a non-positive limit is refused', () => {
    const parts = messageParts('word '.repeat(40), 30);
    expect(parts.every((p) => p.length <= 30)).toBe(true);
    expect(() => messageParts('x', 0)).toThrow(/maxChars must be a positive number/);
  });
});
