// A zip of a worktree directory, in memory and capped, for `/file get <dir>`. Symlinks and .git
// are left out so nothing outside the worktree (or secret) ends up in the archive.
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ZipArchive } from 'archiver';

export class TooLarge extends Error {}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name === '.git') continue;
    const r = rel ? path.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

export async function zipDirectory(dir: string, maxBytes: number): Promise<{ data: Buffer; files: number }> {
  const files = await listFiles(dir);
  const archive = new ZipArchive({ zlib: { level: 9 } });
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        archive.abort();
        reject(new TooLarge(`The zip is over the ${maxBytes}-byte limit.`));
        return;
      }
      chunks.push(c);
    });
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  for (const f of files) archive.append(createReadStream(path.join(dir, f)), { name: f.split(path.sep).join('/') });
  void archive.finalize();
  await done;
  return { data: Buffer.concat(chunks), files: files.length };
}
