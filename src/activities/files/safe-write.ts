// Writing into the worktree without following links: the bytes go to a private temporary file
// (random name, O_CREAT|O_EXCL|O_NOFOLLOW, in the destination's directory), and only after the
// directory chain is re-checked (every part a real directory inside the worktree, no symlink)
// is it renamed into place. A symlink planted anywhere on the way, before or during the write,
// leads to a refusal, never to a write outside the worktree.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PathRefused, checkRelativePath, refusedPathError } from './safe-path';

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface WriteInsideOptions {
  /** Mode of the finished file (0644: the engine and the user's tools read it). */
  mode?: number;
  /** Transforms the bytes pass through on the way (a size cap). */
  through?: Transform[];
  /** Runs after the bytes are written, before the re-check and rename (tests plant links here). */
  beforeRename?: () => Promise<void>;
}

/** The relative directory's parts, each created if missing; a symlink or a file on the way is refused. */
async function ensureDirectoryChain(realRoot: string, relDir: string, userPath: string): Promise<string> {
  let current = realRoot;
  for (const part of relDir === '.' ? [] : relDir.split(path.sep)) {
    current = path.join(current, part);
    for (let attempt = 0; ; attempt++) {
      const st = await fs.lstat(current).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (st?.isSymbolicLink()) throw new PathRefused(`\`${userPath}\` passes through a symlink (\`${path.relative(realRoot, current)}\`); kai writes only through real directories of the working tree.`);
      if (st && !st.isDirectory()) throw new PathRefused(`\`${path.relative(realRoot, current)}\` is a file, so \`${userPath}\` cannot be created under it.`);
      if (st) break;
      try {
        await fs.mkdir(current, { mode: 0o755 });
        break;
      } catch (err) {
        // Someone created it between the look and the mkdir: look again (bounded).
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
      }
    }
  }
  return current;
}

/** Every part of the chain is still a real directory and the whole still resolves inside the root. */
async function recheckDirectoryChain(realRoot: string, relDir: string, userPath: string): Promise<void> {
  let current = realRoot;
  for (const part of relDir === '.' ? [] : relDir.split(path.sep)) {
    current = path.join(current, part);
    const st = await fs.lstat(current);
    if (!st.isDirectory() || st.isSymbolicLink())
      throw new PathRefused(`\`${userPath}\` changed while it was written (\`${path.relative(realRoot, current)}\` is no longer a directory); nothing was saved.`);
  }
  const real = await fs.realpath(current);
  if (real !== current) throw new PathRefused(`\`${userPath}\` no longer leads where it did; nothing was saved.`);
}

async function refuseUnsafeDestination(dest: string, userPath: string): Promise<void> {
  const st = await fs.lstat(dest).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new PathRefused(`\`${userPath}\` is a symlink; kai does not write through symlinks.`);
  if (st?.isDirectory()) throw new PathRefused(`\`${userPath}\` is a directory; give a file name.`);
}

/**
 * Streams `source` into `<root>/<relative>` through a private temporary file and renames it into
 * place; returns the byte count. Throws PathRefused for anything about the path (symlinks on the
 * way, names too long, loops, a file where a directory should be), which callers report as a
 * permanent refusal.
 */
export async function writeInside(root: string, relative: string, source: Readable, opts: WriteInsideOptions = {}): Promise<number> {
  const rel = checkRelativePath(relative);
  let tmp: string | undefined;
  try {
    const realRoot = await fs.realpath(root);
    const relDir = path.dirname(rel);
    const dir = await ensureDirectoryChain(realRoot, relDir, relative);
    const dest = path.join(dir, path.basename(rel));
    await refuseUnsafeDestination(dest, relative);
    tmp = path.join(dir, `.kai-${randomBytes(12).toString('hex')}.partial`);
    const handle = await fs.open(tmp, WRITE_FLAGS, 0o600);
    let bytes = 0;
    try {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          handle.write(chunk).then(() => done(), done);
        },
      });
      await pipeline([source, ...(opts.through ?? []), sink]);
      await handle.chmod(opts.mode ?? 0o644);
      await handle.sync().catch(() => undefined);
    } finally {
      await handle.close();
    }
    await opts.beforeRename?.();
    await recheckDirectoryChain(realRoot, relDir, relative);
    const st = await fs.lstat(tmp);
    if (!st.isFile()) throw new PathRefused(`\`${relative}\` changed while it was written; nothing was saved.`);
    await refuseUnsafeDestination(dest, relative);
    await fs.rename(tmp, dest);
    tmp = undefined;
    return bytes;
  } catch (err) {
    throw refusedPathError(err, relative);
  } finally {
    if (tmp) await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
