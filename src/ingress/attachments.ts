// Links to uploaded files in a message. Linear puts an attachment into the markdown as a link
// (`[name](https://uploads.linear.app/…)` or `![name](…)`) or a bare URL. One forward pass over
// the text: a comment of any size (1 MB of brackets or of `http://`) costs linear time, where a
// backtracking regex took seconds and blocked the ingress event loop.
import type { Attachment } from '../workflows/types';

export const DEFAULT_ATTACHMENT_HOSTS = ['uploads.linear.app'];

/** Characters that end a URL (as Linear's markdown and a bare link end). */
function endsUrl(code: number): boolean {
  // space, tab, newline, CR, form feed, vertical tab, ) < > " '
  return code <= 0x20 || code === 0x29 || code === 0x3c || code === 0x3e || code === 0x22 || code === 0x27;
}

function startsUrl(t: string, i: number): number {
  if (t.startsWith('https://', i)) return 8;
  if (t.startsWith('http://', i)) return 7;
  return 0;
}

/** Every link in `text`, with the markdown name when it has one, in order of appearance. */
export function findLinks(text: string): Array<{ url: string; name?: string }> {
  const links: Array<{ url: string; name?: string }> = [];
  let open = -1; // the last '[' not yet closed
  let closeAt = -1; // the last ']' that closed a '['
  let nameStart = -1; // where that bracket's name began
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c === 0x5b /* [ */) {
      open = i;
      i++;
      continue;
    }
    if (c === 0x5d /* ] */) {
      closeAt = i;
      nameStart = open >= 0 ? open + 1 : -1;
      open = -1;
      i++;
      continue;
    }
    const scheme = c === 0x68 /* h */ ? startsUrl(text, i) : 0;
    if (!scheme) {
      i++;
      continue;
    }
    let end = i + scheme;
    while (end < n && !endsUrl(text.charCodeAt(end))) end++;
    if (end > i + scheme) {
      const url = text.slice(i, end);
      const markdown = i >= 2 && text.charCodeAt(i - 1) === 0x28 /* ( */ && closeAt === i - 2 && nameStart >= 0;
      const name = markdown ? text.slice(nameStart, closeAt).trim() : '';
      links.push(name ? { url, name } : { url });
    }
    i = end;
  }
  return links;
}

/** Links to uploaded files on the allowed hosts, each URL once. */
export function findAttachments(texts: Array<string | null | undefined>, hosts: readonly string[] = DEFAULT_ATTACHMENT_HOSTS): Attachment[] {
  const found = new Map<string, Attachment>();
  for (const t of texts) {
    if (!t) continue;
    for (const link of findLinks(t)) {
      if (found.has(link.url)) continue;
      let host: string;
      try {
        host = new URL(link.url).hostname;
      } catch {
        continue;
      }
      if (!hosts.includes(host)) continue;
      found.set(link.url, link.name ? { url: link.url, name: link.name } : { url: link.url });
    }
  }
  return [...found.values()];
}
