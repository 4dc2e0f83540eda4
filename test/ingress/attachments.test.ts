// Attachment links are found in one pass: 1 MB comments built to make a backtracking regex take
// quadratic time are parsed correctly (the previous regex took seconds at 80 kB and would not
// finish these within the test's timeout).
import { findAttachments, findLinks } from '../../src/ingress/attachments';

const MB = 1024 * 1024;
const HOSTS = ['uploads.linear.app'];

describe('findLinks', () => {
  test('markdown links, images and bare URLs, with names', () => {
    const text = 'See ![shot](https://uploads.linear.app/a/shot.png) and [log file](https://uploads.linear.app/b/log.txt), or https://uploads.linear.app/c/x.zip.';
    expect(findLinks(text)).toEqual([
      { url: 'https://uploads.linear.app/a/shot.png', name: 'shot' },
      { url: 'https://uploads.linear.app/b/log.txt', name: 'log file' },
      { url: 'https://uploads.linear.app/c/x.zip.' },
    ]);
  });

  test('a bracket that does not close right before the link gives no name', () => {
    expect(findLinks('[a] b](https://uploads.linear.app/x)')).toEqual([{ url: 'https://uploads.linear.app/x' }]);
    expect(findLinks('[](http://uploads.linear.app/y)')).toEqual([{ url: 'http://uploads.linear.app/y' }]);
  });

  test('only allowed hosts count as attachments, each URL once', () => {
    const text = '[a](https://uploads.linear.app/1) [b](https://evil.example/2) https://uploads.linear.app/1';
    expect(findAttachments([text], HOSTS)).toEqual([{ url: 'https://uploads.linear.app/1', name: 'a' }]);
  });
});

describe('pathological 1 MB comments parse in linear time', () => {
  jest.setTimeout(20_000);
  const cases: Array<[string, () => string, number]> = [
    ['1 MB of opening brackets', () => '['.repeat(MB), 0],
    ['1 MB of "[x](" without a closing parenthesis', () => '[x]('.repeat(MB / 4), 0],
    ['1 MB of "http://" with no separator (one URL, host "http")', () => 'http://'.repeat(Math.floor(MB / 7)), 0],
    ['one 1 MB URL inside a markdown link', () => `[big](https://uploads.linear.app/${'a'.repeat(MB)})`, 1],
    ['1 MB of "](https://uploads.linear.app/" fragments', () => '](https://uploads.linear.app/'.repeat(Math.floor(MB / 30)), 1],
    ['1 MB of brackets and links mixed', () => '[[[](https://uploads.linear.app/z) '.repeat(Math.floor(MB / 36)), -1],
  ];
  test.each(cases)('%s', (_name, make, expectedAttachments) => {
    const text = make();
    expect(text.length).toBeGreaterThan(MB * 0.9);
    const found = findAttachments([text], HOSTS);
    if (expectedAttachments >= 0) expect(found.length).toBe(expectedAttachments);
    else expect(found).toEqual([{ url: 'https://uploads.linear.app/z' }]);
  });
});
