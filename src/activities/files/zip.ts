// A zip of a worktree directory, in memory and capped, for `/file get <dir>`. One file is open at
// a time (a directory of any size never exhausts file descriptors), files are opened without
// following links (a symlink, even one swapped in after the listing, is left out), .git is never
// read, and git-ignored files (.env, build output) are left out unless asked for.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ZipArchive } from 'archiver';

export class TooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooLarge';
  }
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Every regular file under `dir` (relative, sorted), symlinks and .git left out; depth-first,
 *  one directory open at a time. */
async function walkFiles(dir: string, rel = '', out: string[] = []): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name === '.git') continue;
    const r = rel ? path.join(rel, e.name) : e.name;
    if (e.isDirectory()) await walkFiles(dir, r, out);
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** git's own view of `dir`: tracked files plus untracked ones that are not ignored, and how many
 *  ignored paths were left out. Undefined when `dir` is not in a git work tree. Runs git with a
 *  bare environment and with the code-running config an engine could plant (fsmonitor) off. */
async function gitVisibleFiles(root: string, relDir: string): Promise<{ files: string[]; ignored: number } | undefined> {
  const spec = `:(literal)${relDir === '.' || relDir === '' ? '.' : relDir.split(path.sep).join('/')}`;
  const run = (args: string[], target = spec) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        'git',
        ['-c', 'core.fsmonitor=false', '-c', 'core.untrackedCache=false', '-c', 'core.quotePath=false', ...args, '--', target],
        {
          cwd: root,
          maxBuffer: 256 * 1024 * 1024,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' },
        },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
  let listed: string;
  try {
    listed = await run(['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  } catch {
    return undefined;
  }
  // A directory that is itself ignored (`/file get build`) was asked for by name: all of it.
  if (relDir !== '.' && relDir !== '' && (await run(['check-ignore', '-q'], relDir.split(path.sep).join('/')).then(() => true, () => false))) return undefined;
  const ignored = await run(['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory']).catch(() => '');
  const base = relDir === '.' ? '' : relDir + path.sep;
  const files = [...new Set(listed.split('\0').filter(Boolean))]
    .map((f) => f.split('/').join(path.sep))
    .filter((f) => !f.split(path.sep).includes('.git'))
    .map((f) => (base && f.startsWith(base) ? f.slice(base.length) : f))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files, ignored: ignored.split('\0').filter(Boolean).length };
}

export interface ZipOptions {
  /** The worktree root and `dir` relative to it: with them, git-ignored files are left out. */
  worktree?: { root: string; relDir: string };
  /** Include git-ignored files too (`/file get --include-ignored <dir>`). */
  includeIgnored?: boolean;
}

export interface ZipResult {
  data: Buffer;
  files: number;
  /** Git-ignored paths left out (a directory counts once). */
  ignored: number;
  /** Files skipped because they vanished or became something other than a file meanwhile. */
  skipped: number;
}

export async function zipDirectory(dir: string, maxBytes: number, opts: ZipOptions = {}): Promise<ZipResult> {
  let files: string[];
  let ignored = 0;
  const fromGit = opts.worktree && !opts.includeIgnored ? await gitVisibleFiles(opts.worktree.root, opts.worktree.relDir) : undefined;
  if (fromGit) {
    files = fromGit.files;
    ignored = fromGit.ignored;
  } else {
    files = await walkFiles(dir);
  }

  const archive = new ZipArchive({ zlib: { level: 6 } });
  const chunks: Buffer[] = [];
  let size = 0;
  let failure: Error | undefined;
  // One entry in flight at a time: `wake` resolves when archiver has taken it in (or failed).
  let wake: (() => void) | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    wake?.();
  };
  archive.on('data', (c: Buffer) => {
    if (failure) return;
    size += c.length;
    if (size > maxBytes) {
      fail(new TooLarge(`The zip is over the ${maxBytes}-byte limit (attachment_max_bytes).`));
      archive.abort();
      return;
    }
    chunks.push(c);
  });
  archive.on('error', fail);
  archive.on('warning', fail);
  archive.on('entry', () => wake?.());
  const ended = once(archive, 'end');
  ended.catch(() => undefined);

  let added = 0;
  let skipped = 0;
  for (const rel of files) {
    if (failure) break;
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(path.join(dir, rel), READ_FLAGS);
      const st = await handle.stat();
      if (!st.isFile()) {
        skipped++;
        continue;
      }
      if (st.size > maxBytes) throw new TooLarge(`\`${rel.split(path.sep).join('/')}\` alone is over the ${maxBytes}-byte limit (attachment_max_bytes).`);
      const data = await handle.readFile();
      await handle.close();
      handle = undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        archive.append(data, { name: rel.split(path.sep).join('/'), date: st.mtime, mode: st.mode & 0o777 });
      });
      wake = undefined;
      if (!failure) added++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Gone since the listing, or a symlink now (O_NOFOLLOW): left out, not followed.
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'EMLINK') {
        skipped++;
        continue;
      }
      failure ??= err as Error;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
  if (failure) {
    archive.abort();
    throw failure;
  }
  await new Promise<void>((resolve) => {
    wake = resolve;
    ended.then(() => resolve(), () => resolve());
    void archive.finalize().catch(fail);
  });
  if (failure) throw failure;
  return { data: Buffer.concat(chunks), files: added, ignored, skipped };
}
