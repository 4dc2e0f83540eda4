// Paths users give in `/file put|get`, resolved inside the worktree only: no `..`, no absolute
// paths, no symlink leading out, nothing inside .git.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export class PathRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathRefused';
  }
}

// File-system answers that say the path itself is wrong: no retry will change them.
const PERMANENT: Record<string, string> = {
  ENAMETOOLONG: 'is too long for the file system (a name over 255 bytes or a path over 4096)',
  ELOOP: 'goes round a loop of symlinks',
  ENOTDIR: 'goes through something that is not a directory',
  EISDIR: 'is a directory where a file was expected',
  EEXIST: 'already exists as something kai will not replace',
  EACCES: 'is not accessible to kai (permission denied)',
  EPERM: 'is not accessible to kai (operation not permitted)',
  EROFS: 'is on a read-only file system',
  EINVAL: 'is not a valid path',
  EILSEQ: 'contains bytes the file system does not accept',
};

/** `err` as a PathRefused when it is about the path (permanent), else unchanged (maybe transient). */
export function refusedPathError(err: unknown, userPath: string): unknown {
  if (err instanceof PathRefused) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code ? PERMANENT[code] : undefined;
  return why ? new PathRefused(`\`${shortPath(userPath)}\` ${why} (${code}).`) : err;
}

function shortPath(p: string): string {
  return p.length > 120 ? `${p.slice(0, 60)}…${p.slice(-40)}` : p;
}

const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

function isInside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

/** Checks the words of a path, before touching the file system. */
export function checkRelativePath(userPath: string): string {
  const p = userPath.trim();
  if (!p) throw new PathRefused('Give a path inside the working tree, e.g. `/file get src/app.ts`.');
  if (p.includes('\0')) throw new PathRefused('The path contains a NUL character.');
  if (/[\u0001-\u001f]/.test(p)) throw new PathRefused('The path contains a control character (a line break or tab?): give the path alone.');
  if (path.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('~'))
    throw new PathRefused(`\`${p}\` is an absolute path: give a path relative to the working tree.`);
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) throw new PathRefused(`\`${shortPath(p)}\` is longer than ${MAX_PATH_BYTES} bytes: give a shorter path.`);
  const parts = p.split(/[\\/]+/);
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES);
  if (long) throw new PathRefused(`\`${shortPath(long)}\` is longer than ${MAX_NAME_BYTES} bytes, the longest name a file system allows.`);
  if (parts.includes('..')) throw new PathRefused(`\`${p}\` goes up with "..": only paths inside the working tree are allowed.`);
  if (parts.some((part) => part.toLowerCase() === '.git')) throw new PathRefused(`\`${p}\` is inside .git, which kai does not read or write.`);
  return path.normalize(parts.join(path.sep));
}

/**
 * The absolute path for `userPath` inside `root`, after following symlinks of every part that
 * exists: a symlink that leads outside the worktree is refused.
 */
export async function resolveInside(root: string, userPath: string): Promise<{ absolute: string; relative: string; exists: boolean }> {
  try {
    return await resolveInsideUnchecked(root, userPath);
  } catch (err) {
    throw refusedPathError(err, userPath);
  }
}

async function resolveInsideUnchecked(root: string, userPath: string): Promise<{ absolute: string; relative: string; exists: boolean }> {
  const relative = checkRelativePath(userPath);
  const realRoot = await fs.realpath(root);
  const absolute = path.join(realRoot, relative);
  // Walk down: the deepest existing part decides where the path really leads.
  let existing = absolute;
  let rest = '';
  for (;;) {
    try {
      const real = await fs.realpath(existing);
      if (!isInside(realRoot, real)) throw new PathRefused(`\`${userPath}\` leads outside the working tree through a symlink.`);
      const final = rest ? path.join(real, rest) : real;
      return { absolute: final, relative, exists: rest === '' };
    } catch (err) {
      if (err instanceof PathRefused) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      // A dangling symlink must not be followed later by a write.
      const st = await fs.lstat(existing).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new PathRefused(`\`${userPath}\` passes through a symlink that points nowhere inside the working tree.`);
      const parent = path.dirname(existing);
      if (parent === existing || !isInside(realRoot, parent)) throw new PathRefused(`\`${userPath}\` is outside the working tree.`);
      rest = rest ? path.join(path.basename(existing), rest) : path.basename(existing);
      existing = parent;
    }
  }
}
