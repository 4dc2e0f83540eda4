// File transfer between Linear and the worktree: a prompt's attachments saved for the engine,
// and the `/file put|get` commands. Paths stay inside the worktree; sizes are capped both ways.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { KaiConfig } from '../../config/schema';
import * as logModule from '../../log';
import type { Attachment } from '../../domain/issue';
import type { FileCommandInput, FilesActivities, Workspace } from '../types';
import { DownloadRefused, downloadToFile } from './download';
import { PathRefused, resolveInside } from './safe-path';
import { TooLarge, zipDirectory } from './zip';

/** Uploads a file to Linear and returns the asset URL (built on @linear/sdk's fileUpload). */
export interface LinearUploader {
  upload(name: string, contentType: string, data: Buffer): Promise<string>;
}

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

  async function download(url: string, dest: string) {
    const token = await deps.token.accessToken().catch(() => undefined);
    return downloadToFile(url, dest, {
      allowedHosts: linear.attachment_allowed_hosts,
      maxBytes: linear.attachment_max_bytes,
      token,
      fetch: deps.fetch,
    });
  }

  async function filesDownloadAttachments(input: { attachments: Attachment[]; workspace: Workspace }): Promise<string[]> {
    if (!linear.download_attachments || input.attachments.length === 0) return [];
    const dir = linear.files.enabled && linear.files.auto_put ? linear.files.uploads_dir : linear.attachment_dir;
    const saved: string[] = [];
    for (const [i, attachment] of input.attachments.entries()) {
      const name = safeFileName(attachment, i);
      try {
        const target = await resolveInside(input.workspace.worktreePath, path.join(dir, name));
        const { bytes } = await download(attachment.url, target.absolute);
        saved.push(target.relative.split(path.sep).join('/'));
        log().info({ file: target.relative, bytes }, 'attachment saved');
      } catch (err) {
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
    } catch (err) {
      if (err instanceof PathRefused || err instanceof DownloadRefused || err instanceof TooLarge) return `Refused: ${err.message}`;
      throw err;
    }
  }

  async function put(input: FileCommandInput): Promise<string> {
    const attachment = input.attachments[0];
    if (!attachment) return 'Attach the file to the same message as `/file put <path>`.';
    const wantsDir = input.path.trim().endsWith('/');
    const userPath = wantsDir ? path.posix.join(input.path.trim(), safeFileName(attachment, 0)) : input.path;
    const target = await resolveInside(input.workspace.worktreePath, userPath);
    const st = await fs.lstat(target.absolute).catch(() => undefined);
    if (st?.isDirectory()) {
      const inside = await resolveInside(input.workspace.worktreePath, path.join(target.relative, safeFileName(attachment, 0)));
      return save(attachment, inside, input.attachments.length);
    }
    if (st?.isSymbolicLink()) throw new PathRefused(`\`${input.path}\` is a symlink; kai does not write through symlinks.`);
    return save(attachment, target, input.attachments.length);
  }

  async function save(attachment: Attachment, target: { absolute: string; relative: string }, count: number): Promise<string> {
    const { bytes } = await download(attachment.url, target.absolute);
    const rel = target.relative.split(path.sep).join('/');
    const more = count > 1 ? ` (only the first of ${count} attachments was saved)` : '';
    return `Saved \`${rel}\` (${formatBytes(bytes)}) in the working tree${more}.`;
  }

  async function get(input: FileCommandInput): Promise<string> {
    const target = await resolveInside(input.workspace.worktreePath, input.path);
    if (!target.exists) return `There is no \`${target.relative}\` in the working tree.`;
    const st = await fs.stat(target.absolute);
    const max = linear.attachment_max_bytes;
    const rel = target.relative.split(path.sep).join('/');
    let name: string;
    let data: Buffer;
    let note = '';
    if (st.isDirectory()) {
      const zip = await zipDirectory(target.absolute, max);
      name = `${path.basename(target.absolute) || 'worktree'}.zip`;
      data = zip.data;
      note = `, ${zip.files} file${zip.files === 1 ? '' : 's'} zipped`;
    } else if (st.isFile()) {
      if (st.size > max) throw new TooLarge(`\`${rel}\` is ${formatBytes(st.size)}, over the ${formatBytes(max)} limit (attachment_max_bytes).`);
      name = path.basename(target.absolute);
      data = await fs.readFile(target.absolute);
    } else {
      return `\`${rel}\` is neither a file nor a directory.`;
    }
    const url = await deps.uploader.upload(name, contentTypeFor(name), data);
    return `[${name}](${url}) (${formatBytes(data.length)}${note})`;
  }

  return { filesDownloadAttachments, filesCommand };
}

function safeUrlForLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
