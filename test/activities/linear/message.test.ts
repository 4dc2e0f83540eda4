// Splitting and trimming final messages at paragraph boundaries without breaking code fences.
import { fitMessage, splitMessage, trimMessage } from '../../../src/activities/linear/message';
import { partActivityId } from '../../../src/activities/linear/ids';

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

test('split parts get deterministic ids derived from the first', () => {
  const first = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
  expect(partActivityId(first, 0)).toBe(first);
  expect(partActivityId(first, 1)).toBe(partActivityId(first, 1));
  expect(partActivityId(first, 1)).not.toBe(partActivityId(first, 2));
  expect(partActivityId(first, 1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
