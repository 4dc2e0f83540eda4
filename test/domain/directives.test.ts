// Title and prompt directives: what they mean, and that parsing stays linear on hostile input.
import { extractDirectives, labelDirectives, parseTitle } from '../../src/domain/directives';

describe('extractDirectives', () => {
  test('finds each directive, first of a key wins, and leaves the text without them', () => {
    expect(extractDirectives('Fix it [engine:codex] now [model: o3 ] [engine:claude]')).toEqual({
      text: 'Fix it now',
      directives: { engine: 'codex', model: 'o3' },
    });
  });

  test('keys are case-insensitive; spaces inside the brackets are allowed, none in the value', () => {
    expect(extractDirectives('[ Reasoning : high ] go').directives).toEqual({ reasoning: 'high' });
    expect(extractDirectives('[model: a b] go')).toEqual({ text: '[model: a b] go', directives: {} });
  });

  test('brackets that are not directives stay as written', () => {
    for (const text of ['[engine] x', '[engine:] x', '[enginex:y] x', 'a [link](http://x) b', '[[engine:', 'x]']) {
      expect(extractDirectives(text)).toEqual({ text: text.trim(), directives: {} });
    }
  });

  test('a directive glued to other text is still found (values stop at a bracket or a space)', () => {
    expect(extractDirectives('x[engine:a[engine:b]')).toEqual({ text: 'x', directives: { engine: 'a[engine:b' } });
  });
});

describe('parseTitle', () => {
  test('reads a leading @branch, before or after leading directives', () => {
    expect(parseTitle('@fix/login Fix the login bug')).toEqual({ branch: 'fix/login', text: 'Fix the login bug', directives: {} });
    expect(parseTitle('[engine:codex] @fix/x Do')).toEqual({ branch: 'fix/x', text: 'Do', directives: { engine: 'codex' } });
    expect(parseTitle('  @only')).toEqual({ branch: 'only', text: '', directives: {} });
  });

  test('an @ inside the title is not a branch', () => {
    expect(parseTitle('Email me@example.com').branch).toBeUndefined();
    expect(parseTitle('@ alone').branch).toBeUndefined();
  });
});

describe('labelDirectives', () => {
  test('reads engine > x, model: x and reasoning/x labels; first of a key wins', () => {
    expect(labelDirectives(['bug', 'Engine > codex', 'model: gpt-5 mini ', 'reasoning/high', 'engine > claude'])).toEqual({
      engine: 'codex',
      model: 'gpt-5 mini',
      reasoning: 'high',
    });
  });

  test('ignores labels that only look alike', () => {
    expect(labelDirectives(['engineer', 'engine >', 'model', 'engines > x'])).toEqual({});
  });
});

// Hostile input of 1 MB: each case finished in seconds at most when parsing is linear, and in
// minutes when it was quadratic (80 k characters took 7-10 s). Jest's timeout is the bound.
describe('pathological input of 1 MB', () => {
  const MB = 1024 * 1024;
  const cases: Array<[string, string]> = [
    ['spaces and tabs before a bracket-less end', ' \t'.repeat(MB / 2) + 'x'],
    ['many openings without a close', '[engine:'.repeat(MB / 8)],
    ['one opening, a long value, no close', '[engine:' + 'a'.repeat(MB)],
    ['nested openings', '[engine:a'.repeat(MB / 9)],
    ['brackets and spaces', '[ '.repeat(MB / 2)],
    ['a directive at the end after a long prefix', 'x '.repeat(MB / 2) + '[engine:codex]'],
    ['many directives', '[model:m] '.repeat(MB / 10)],
  ];

  test.each(cases)('%s: extractDirectives and parseTitle finish', (_name, input) => {
    const out = extractDirectives(input);
    expect(typeof out.text).toBe('string');
    expect(parseTitle(input).text.length).toBeLessThanOrEqual(input.length);
  }, 15_000);

  test('a 1 MB label and a 1 MB @branch title finish', () => {
    expect(labelDirectives(['engine >' + ' '.repeat(MB) + 'x' + ' '.repeat(MB)])).toEqual({ engine: 'x' });
    expect(parseTitle('@' + 'b'.repeat(MB) + ' rest').branch).toHaveLength(MB);
  }, 15_000);

  test('the directive after a long prefix is still found', () => {
    expect(extractDirectives('x '.repeat(MB / 2) + '[engine:codex]').directives).toEqual({ engine: 'codex' });
  }, 15_000);
});
