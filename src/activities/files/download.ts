// Attachment downloads: only from attachment_allowed_hosts, the Linear token only to those hosts,
// redirects followed by hand and refused when they leave the list, bodies streamed under a cap.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { writeInside } from './safe-write';

export class DownloadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadRefused';
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const MAX_REDIRECTS = 5;

/** Whether a URL is one kai may fetch with the Linear token: an allowed host, over https (http for loopback only). */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  const listed = allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e.includes(':') && !e.startsWith('[') ? e === host : e === hostname && (url.port === '' || e === host);
  });
  if (!listed) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && LOOPBACK.has(hostname);
}

export interface DownloadOptions {
  allowedHosts: readonly string[];
  maxBytes: number;
  /** The Linear token, sent as Authorization to allowed hosts only. */
  token?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Test hook: runs between writing the bytes and renaming them into place. */
  beforeRename?: () => Promise<void>;
}

function authorization(token: string): string {
  return token.startsWith('lin_api_') ? token : `Bearer ${token}`;
}

/** Streams `url` into `<root>/<relative>` (through a private temporary file, see safe-write.ts);
 *  returns the byte count. `downloadToFile(url, dest, opts)` writes `dest` inside its own
 *  directory, with the same guarantees for the file itself. */
export async function downloadToFile(url: string, dest: string, opts: DownloadOptions): Promise<{ bytes: number; contentType?: string }>;
export async function downloadToFile(url: string, root: string, relative: string, opts: DownloadOptions): Promise<{ bytes: number; contentType?: string }>;
export async function downloadToFile(
  url: string,
  rootOrDest: string,
  relativeOrOpts: string | DownloadOptions,
  maybeOpts?: DownloadOptions,
): Promise<{ bytes: number; contentType?: string }> {
  if (typeof relativeOrOpts !== 'string') {
    const dir = path.dirname(path.resolve(rootOrDest));
    await fs.mkdir(dir, { recursive: true });
    return downloadInto(url, dir, path.basename(rootOrDest), relativeOrOpts);
  }
  return downloadInto(url, rootOrDest, relativeOrOpts, maybeOpts!);
}

async function downloadInto(url: string, root: string, relative: string, opts: DownloadOptions): Promise<{ bytes: number; contentType?: string }> {
  const doFetch = opts.fetch ?? fetch;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new DownloadRefused(`"${url.slice(0, 200)}" is not a URL.`);
  }
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!hostAllowed(current, opts.allowedHosts))
      throw new DownloadRefused(
        `${hop ? 'A redirect to' : 'Downloads from'} ${current.host} ${hop ? 'was refused' : 'are not allowed'}: ` +
          `attachments come only from ${opts.allowedHosts.join(', ')} (transports.linear.attachment_allowed_hosts).`,
      );
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = authorization(opts.token);
    const res = await doFetch(current, { redirect: 'manual', headers, signal: opts.signal });
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => undefined);
      if (!location) throw new DownloadRefused(`${current.host} answered ${res.status} without a Location.`);
      current = new URL(location, current);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`Downloading the attachment failed: HTTP ${res.status} from ${current.host}.`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new DownloadRefused(`The attachment is ${declared} bytes, over the ${opts.maxBytes}-byte limit (attachment_max_bytes).`);
    }
    if (!res.body) throw new Error('The attachment response has no body.');
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) done(new DownloadRefused(`The attachment is over the ${opts.maxBytes}-byte limit (attachment_max_bytes).`));
        else done(null, chunk);
      },
    });
    let bytes = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    try {
      await writeInside(root, relative, body, { through: [cap], beforeRename: opts.beforeRename });
    } finally {
      body.destroy();
    }
    return { bytes, contentType: res.headers.get('content-type') ?? undefined };
  }
  throw new DownloadRefused(`More than ${MAX_REDIRECTS} redirects.`);
}
