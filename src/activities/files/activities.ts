// File transfer between Linear and the worktree: a prompt's attachments saved for the engine,
// and the `/file put|get` commands. Paths stay inside the worktree; sizes are capped both ways.
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { KaiConfig } from '../../config/schema';
import * as logModule from '../../log';
import type { Attachment } from '../../domain/issue';
import type { Workspace } from '../../domain/workspace';
import type { FileCommandInput, FilesActivities } from '../../contracts/activities';
import type { LinearUploader } from '../linear/uploader';
import { DownloadRefused, downloadToFile } from './download';
import { PathRefused, checkRelativePath, refusedPathError, resolveInside } from './safe-path';
import { TooLarge, zipDirectory } from './zip';

/** The Linear token, sent with downloads from the allowed attachment hosts only. */
export interface LinearTokenSource {
  accessToken(): Promise<string>;
}

export interface FilesActivitiesDeps {
  config: KaiConfig;
  uploader: LinearUploader;
  token: LinearTokenSource;
  logger?: Logger;
  fetch?: typeof fetch;
  /** Test hook: runs between writing a download and renaming it into place. */
  beforeRename?: () => Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.ts': 'text/plain',
  '.js': 'text/javascript',
  '.log': 'text/plain',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** A file name safe to create: the last part of the name or URL path, tame characters only. */
export function safeFileName(attachment: Attachment, index: number): string {
  let base = attachment.name?.trim() || '';
  if (!base) {
    try {
      base = decodeURIComponent(path.posix.basename(new URL(attachment.url).pathname));
    } catch {
      base = '';
    }
  }
  base = path.basename(base.replace(/\\/g, '/')).replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^\.+/, '').trim();
  return base.slice(-120) || `attachment-${index + 1}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function createFilesActivities(deps: FilesActivitiesDeps): FilesActivities {
  const { config } = deps;
  const linear = config.transports.linear;
  const log = () => deps.logger ?? logModule.logger;

  async function download(url: string, root: string, relative: string) {
    const token = await deps.token.accessToken().catch(() => undefined);
    return downloadToFile(url, root, relative, {
      allowedHosts: linear.attachment_allowed_hosts,
      maxBytes: linear.attachment_max_bytes,
      token,
      fetch: deps.fetch,
      beforeRename: deps.beforeRename,
    });
  }

  async function filesDownloadAttachments(input: { attachments: Attachment[]; workspace: Workspace }): Promise<string[]> {
    if (!linear.download_attachments || input.attachments.length === 0) return [];
    const dir = linear.files.enabled && linear.files.auto_put ? linear.files.uploads_dir : linear.attachment_dir;
    const saved: string[] = [];
    for (const [i, attachment] of input.attachments.entries()) {
      const name = safeFileName(attachment, i);
      try {
        const relative = checkRelativePath(path.join(dir, name));
        const { bytes } = await download(attachment.url, input.workspace.worktreePath, relative);
        saved.push(relative.split(path.sep).join('/'));
        log().info({ file: relative, bytes }, 'attachment saved');
      } catch (caught) {
        const err = refusedPathError(caught, name);
        if (err instanceof DownloadRefused || err instanceof PathRefused) {
          // One refused attachment does not sink the turn; it is left out of the prompt.
          log().warn({ url: safeUrlForLog(attachment.url), reason: err.message }, 'attachment refused');
          continue;
        }
        throw err;
      }
    }
    return saved;
  }

  async function filesCommand(input: FileCommandInput): Promise<string> {
    if (!linear.files.enabled)
      return 'File transfer is turned off. Set `enabled = true` under `[transports.linear.files]` to use `/file put` and `/file get`.';
    try {
      return input.op === 'put' ? await put(input) : await get(input);
    } catch (caught) {
      // Refusals are answers, not failures: a retry would only repeat them.
      const err = refusedPathError(caught, input.path);
      if (err instanceof PathRefused || err instanceof DownloadRefused || err instanceof TooLarge) return `Refused: ${err.message}`;
      throw err;
    }
  }

  async function put(input: FileCommandInput): Promise<string> {
    const attachment = input.attachments[0];
    if (!attachment) return 'Attach the file to the same message as `/file put <path>`.';
    const root = input.workspace.worktreePath;
    const given = input.path.trim();
    let relative = checkRelativePath(given);
    // `dir/` or an existing (real) directory: the file keeps its own name inside it.
    const st = await fs.lstat(path.join(await fs.realpath(root), relative)).catch(() => undefined);
    if (given.endsWith('/') || st?.isDirectory()) relative = checkRelativePath(path.join(relative, safeFileName(attachment, 0)));
    const { bytes } = await download(attachment.url, root, relative);
    const rel = relative.split(path.sep).join('/');
    const more = input.attachments.length > 1 ? ` (only the first of ${input.attachments.length} attachments was saved)` : '';
    return `Saved \`${rel}\` (${formatBytes(bytes)}) in the working tree${more}.`;
  }

  async function get(input: FileCommandInput): Promise<string> {
    const { path: userPath, includeIgnored } = parseGetArgs(input.path);
    const target = await resolveInside(input.workspace.worktreePath, userPath);
    if (!target.exists) return `There is no \`${target.relative}\` in the working tree.`;
    const max = linear.attachment_max_bytes;
    const rel = target.relative.split(path.sep).join('/');
    const st = await fs.stat(target.absolute).catch((err: unknown) => Promise.reject(refusedPathError(err, userPath)));
    let name: string;
    let data: Buffer;
    let note = '';
    if (st.isDirectory()) {
      const realRoot = await fs.realpath(input.workspace.worktreePath);
      const zip = await zipDirectory(target.absolute, max, {
        worktree: { root: realRoot, relDir: path.relative(realRoot, target.absolute) || '.' },
        includeIgnored,
      }).catch((err: unknown) => Promise.reject(refusedPathError(err, userPath)));
      name = `${path.basename(target.absolute) || 'worktree'}.zip`;
      data = zip.data;
      note = `, ${zip.files} file${zip.files === 1 ? '' : 's'} zipped`;
      if (zip.ignored) note += `; ${zip.ignored} git-ignored path${zip.ignored === 1 ? '' : 's'} left out (\`/file get --include-ignored ${rel}\` includes them)`;
    } else if (st.isFile()) {
      data = await readFileNoFollow(target.absolute, rel, max).catch((err: unknown) => Promise.reject(refusedPathError(err, userPath)));
      name = path.basename(target.absolute);
    } else {
      return `\`${rel}\` is neither a file nor a directory.`;
    }
    const url = await deps.uploader.upload({ data, filename: name, contentType: contentTypeFor(name) });
    return `[${name}](${url}) (${formatBytes(data.length)}${note})`;
  }

  return { filesDownloadAttachments, filesCommand };
}

/** `/file get [--include-ignored|--all] <path>`: the flag may come before or after the path. */
export function parseGetArgs(raw: string): { path: string; includeIgnored: boolean } {
  const words = raw.trim().split(/\s+/);
  const flags = new Set(['--include-ignored', '--ignored', '--all']);
  const includeIgnored = words.some((w) => flags.has(w.toLowerCase()));
  if (!includeIgnored) return { path: raw, includeIgnored };
  return { path: words.filter((w) => !flags.has(w.toLowerCase())).join(' '), includeIgnored };
}

/** A file's bytes, opened without following a link swapped in at the last moment, capped. */
async function readFileNoFollow(absolute: string, rel: string, max: number): Promise<Buffer> {
  const handle = await fs.open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new PathRefused(`\`${rel}\` is not a regular file.`);
    if (st.size > max) throw new TooLarge(`\`${rel}\` is ${formatBytes(st.size)}, over the ${formatBytes(max)} limit (attachment_max_bytes).`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function safeUrlForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
