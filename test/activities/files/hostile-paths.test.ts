// Hostile file system layouts an engine can plant in its worktree before a download or /file.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFilesActivities, parseGetArgs } from '../../../src/activities/files/activities';
import type { LinearUploader } from '../../../src/activities/linear/uploader';
import { writeInside } from '../../../src/activities/files/safe-write';
import { downloadToFile } from '../../../src/activities/files/download';
import { Readable } from 'node:stream';
import { configSchema } from '../../../src/config/schema';
import type { Workspace } from '../../../src/domain/workspace';

let server: Server;
let host: string;
let root: string;
let wt: string;
let outside: string;
let ws: Workspace;
const uploads: Array<{ name: string; data: Buffer }> = [];
const uploader: LinearUploader = {
  upload: async ({ filename: name, data }) => {
    uploads.push({ name, data: Buffer.from(data) });
    return `https://uploads.linear.app/fake/${uploads.length}/${encodeURIComponent(name)}`;
  },
};
const token = { accessToken: async () => 'lin_oauth_test' };

beforeAll(async () => {
  server = createServer((_req, res) => res.end('new bytes'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

beforeEach(() => {
  root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-hostile-')));
  wt = path.join(root, 'wt');
  outside = path.join(root, 'outside');
  mkdirSync(wt);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'victim.txt'), 'untouched');
  ws = { repoPath: wt, worktreePath: wt, branch: 'kai/AV-1' };
  uploads.length = 0;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function acts(extra: { beforeRename?: () => Promise<void>; maxBytes?: number } = {}) {
  const config = configSchema.parse({
    transports: { linear: { attachment_allowed_hosts: [host], attachment_max_bytes: extra.maxBytes ?? 50_000_000, files: { enabled: true } } },
  });
  return createFilesActivities({ config, uploader, token, beforeRename: extra.beforeRename });
}
const cmd = (op: 'put' | 'get', p: string, attachments: Array<{ url: string; name?: string }> = []) => ({ op, path: p, attachments, workspace: ws, agentSessionId: 'as-1' });
const victim = () => readFileSync(path.join(outside, 'victim.txt'), 'utf8');
const outsideNames = () => readdirSync(outside).sort();

describe('writes never follow a planted link', () => {
  test('a planted .kai-partial symlink does not turn an attachment download into a write outside', async () => {
    mkdirSync(path.join(wt, 'incoming'));
    symlinkSync(path.join(outside, 'victim.txt'), path.join(wt, 'incoming', 'spec.txt.kai-partial'));
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${host}/spec.txt`, name: 'spec.txt' }], workspace: ws });
    expect(saved).toEqual(['incoming/spec.txt']);
    expect(readFileSync(path.join(wt, 'incoming', 'spec.txt'), 'utf8')).toBe('new bytes');
    expect(lstatSync(path.join(wt, 'incoming', 'spec.txt')).isSymbolicLink()).toBe(false);
    expect(victim()).toBe('untouched');
  });

  test('a planted .kai-partial symlink does not turn /file put into a write outside', async () => {
    symlinkSync(path.join(outside, 'victim.txt'), path.join(wt, 'notes.txt.kai-partial'));
    const reply = await acts().filesCommand(cmd('put', 'notes.txt', [{ url: `http://${host}/n` }]));
    expect(reply).toBe('Saved `notes.txt` (9 B) in the working tree.');
    expect(victim()).toBe('untouched');
  });

  test('a symlink at the destination is refused, for a download and for /file put', async () => {
    mkdirSync(path.join(wt, 'incoming'));
    symlinkSync(path.join(outside, 'victim.txt'), path.join(wt, 'incoming', 'spec.txt'));
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${host}/spec.txt`, name: 'spec.txt' }], workspace: ws });
    expect(saved).toEqual([]);
    symlinkSync(path.join(outside, 'victim.txt'), path.join(wt, 'inner-link.txt'));
    expect(await acts().filesCommand(cmd('put', 'inner-link.txt', [{ url: `http://${host}/n` }]))).toMatch(/^Refused: .*symlink/);
    expect(victim()).toBe('untouched');
    expect(outsideNames()).toEqual(['victim.txt']);
  });

  test('a symlinked directory on the way is refused even when it points inside the worktree', async () => {
    mkdirSync(path.join(wt, 'real'));
    symlinkSync(path.join(wt, 'real'), path.join(wt, 'alias'));
    expect(await acts().filesCommand(cmd('put', 'alias/x.txt', [{ url: `http://${host}/n` }]))).toMatch(/^Refused: .*symlink/);
    expect(readdirSync(path.join(wt, 'real'))).toEqual([]);
  });

  test('a directory swapped for a symlink while the bytes are written is caught before the rename', async () => {
    mkdirSync(path.join(wt, 'docs'));
    const swap = async () => {
      renameSync(path.join(wt, 'docs'), path.join(root, 'moved-away'));
      symlinkSync(outside, path.join(wt, 'docs'));
    };
    const reply = await acts({ beforeRename: swap }).filesCommand(cmd('put', 'docs/planted.txt', [{ url: `http://${host}/n` }]));
    expect(reply).toMatch(/^Refused: .*changed while it was written.*nothing was saved/);
    expect(outsideNames()).toEqual(['victim.txt']);
    expect(victim()).toBe('untouched');
  });

  test('downloadToFile(url, dest) ignores a planted <dest>.kai-partial link and refuses a link at dest', async () => {
    const dest = path.join(wt, 'direct.txt');
    symlinkSync(path.join(outside, 'victim.txt'), `${dest}.kai-partial`);
    const opts = { allowedHosts: [host], maxBytes: 1000 };
    expect(await downloadToFile(`http://${host}/d`, dest, opts)).toMatchObject({ bytes: 9 });
    expect(readFileSync(dest, 'utf8')).toBe('new bytes');
    symlinkSync(path.join(outside, 'victim.txt'), path.join(wt, 'link.txt'));
    await expect(downloadToFile(`http://${host}/d`, path.join(wt, 'link.txt'), opts)).rejects.toThrow(/symlink/);
    expect(victim()).toBe('untouched');
  });

  test('the temporary file is private, randomly named and gone after the write', async () => {
    const seen: string[] = [];
    await writeInside(wt, 'a/b/c.txt', Readable.from([Buffer.from('x')]), {
      beforeRename: async () => {
        for (const n of readdirSync(path.join(wt, 'a', 'b'))) {
          seen.push(n);
          expect(lstatSync(path.join(wt, 'a', 'b', n)).mode & 0o777).toBe(0o644);
        }
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\.kai-[0-9a-f]{24}\.partial$/);
    expect(readdirSync(path.join(wt, 'a', 'b'))).toEqual(['c.txt']);
  });
});

describe('bad paths are refused permanently with a clear reply', () => {
  test('a name over 255 bytes and a path over 4096 bytes', async () => {
    const long = 'n'.repeat(300);
    expect(await acts().filesCommand(cmd('get', long))).toMatch(/^Refused: .*longer than 255 bytes/);
    expect(await acts().filesCommand(cmd('put', `dir/${long}.txt`, [{ url: `http://${host}/n` }]))).toMatch(/^Refused: .*longer than 255 bytes/);
    const deep = Array.from({ length: 40 }, () => 'd'.repeat(120)).join('/');
    expect(await acts().filesCommand(cmd('get', deep))).toMatch(/^Refused: .*longer than 4096 bytes/);
  });

  test('a path too long for the file system once joined to the worktree (ENAMETOOLONG)', async () => {
    // 4085 bytes of path: under kai's own limit, over PATH_MAX once the worktree's path is added.
    const deep = Array.from({ length: 16 }, () => 'e'.repeat(254)).join('/');
    expect(Buffer.byteLength(deep)).toBeLessThanOrEqual(4096);
    const reply = await acts().filesCommand(cmd('put', `${deep}/x.txt`, [{ url: `http://${host}/n` }]));
    expect(reply).toMatch(/^Refused: /);
    expect(reply).toMatch(/too long|longer than/);
    expect(await acts().filesCommand(cmd('get', `${deep}/x.txt`))).toMatch(/^Refused: .*(too long|longer than)|^There is no/);
  });

  test('a symlink loop (ELOOP) is refused, not retried', async () => {
    symlinkSync(path.join(wt, 'loop-b'), path.join(wt, 'loop-a'));
    symlinkSync(path.join(wt, 'loop-a'), path.join(wt, 'loop-b'));
    expect(await acts().filesCommand(cmd('get', 'loop-a/file.txt'))).toMatch(/^Refused: .*loop of symlinks \(ELOOP\)/);
    expect(await acts().filesCommand(cmd('get', 'loop-a'))).toMatch(/^Refused: .*loop of symlinks/);
    expect(await acts().filesCommand(cmd('put', 'loop-a/file.txt', [{ url: `http://${host}/n` }]))).toMatch(/^Refused: /);
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${host}/x`, name: 'x.txt' }], workspace: ws });
    expect(saved).toEqual(['incoming/x.txt']);
  });

  test('a file where a directory is needed, and control characters, are refused', async () => {
    writeFileSync(path.join(wt, 'plain'), 'x');
    expect(await acts().filesCommand(cmd('put', 'plain/x.txt', [{ url: `http://${host}/n` }]))).toMatch(/^Refused: `plain` is a file/);
    expect(await acts().filesCommand(cmd('get', 'a\nb'))).toMatch(/^Refused: .*control character/);
    expect(await acts().filesCommand(cmd('get', '.GIT/config'))).toMatch(/^Refused: .*inside .git/);
  });
});

describe('/file get <dir>', () => {
  test('a 5,000-file directory zips under a 256-descriptor limit, one file open at a time', async () => {
    const dir = path.join(wt, 'many');
    mkdirSync(dir);
    for (let i = 0; i < 5000; i++) writeFileSync(path.join(dir, `f${i}.txt`), `file ${i}\n`);
    const before = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output=SOFT', '--noheadings']).toString().trim();
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=256:']);
    let reply: string;
    try {
      reply = await acts().filesCommand(cmd('get', 'many'));
    } finally {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${before}:`]);
    }
    expect(reply).toMatch(/^\[many\.zip\]\(.*\) \(.*, 5000 files zipped\)$/);
    expect(zipEntryCount(uploads[0]!.data)).toBe(5000);
  }, 180_000);

  test('/file get . leaves out git-ignored files such as .env unless asked', async () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: wt, env: { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1' } });
    git('init', '-q');
    writeFileSync(path.join(wt, '.gitignore'), '.env\nbuild/\n');
    writeFileSync(path.join(wt, '.env'), 'GITHUB_TOKEN=Qx7-do-not-send');
    mkdirSync(path.join(wt, 'build'));
    writeFileSync(path.join(wt, 'build', 'out.js'), 'built');
    mkdirSync(path.join(wt, 'src'));
    writeFileSync(path.join(wt, 'src', 'app.ts'), 'tracked');
    writeFileSync(path.join(wt, 'new.md'), 'untracked, not ignored');
    git('add', '.gitignore', 'src/app.ts');
    const reply = await acts().filesCommand(cmd('get', '.'));
    expect(reply).toMatch(/3 files zipped; 2 git-ignored paths left out \(`\/file get --include-ignored \.` includes them\)/);
    expect(zipEntryNames(uploads[0]!.data).sort()).toEqual(['.gitignore', 'new.md', 'src/app.ts']);
    expect(uploads[0]!.data.includes(Buffer.from('Qx7-do-not-send'))).toBe(false);

    const all = await acts().filesCommand(cmd('get', '--include-ignored .'));
    expect(all).toMatch(/5 files zipped\)$/);
    expect(zipEntryNames(uploads[1]!.data).sort()).toEqual(['.env', '.gitignore', 'build/out.js', 'new.md', 'src/app.ts']);

    const named = await acts().filesCommand(cmd('get', 'build'));
    expect(named).toMatch(/1 file zipped\)$/);
    expect(zipEntryNames(uploads[2]!.data)).toEqual(['out.js']);
    uploads.splice(2, 1);

    const sub = await acts().filesCommand(cmd('get', 'src'));
    expect(sub).toMatch(/1 file zipped\)$/);
    expect(zipEntryNames(uploads[2]!.data)).toEqual(['app.ts']);
    expect(existsSync(path.join(wt, '.env'))).toBe(true);
  });

  test('the flag may come before or after the path', () => {
    expect(parseGetArgs('--include-ignored build')).toEqual({ path: 'build', includeIgnored: true });
    expect(parseGetArgs('build --all')).toEqual({ path: 'build', includeIgnored: true });
    expect(parseGetArgs('my file.txt')).toEqual({ path: 'my file.txt', includeIgnored: false });
  });
});

function zipEntryNames(zip: Buffer): string[] {
  const names: string[] = [];
  for (let i = 0; i < zip.length - 4; i++) {
    if (zip.readUInt32LE(i) === 0x02014b50) {
      const len = zip.readUInt16LE(i + 28);
      names.push(zip.subarray(i + 46, i + 46 + len).toString());
    }
  }
  return names;
}

/** Entries recorded in the zip's end-of-central-directory record. */
function zipEntryCount(zip: Buffer): number {
  for (let i = zip.length - 22; i >= 0; i--) if (zip.readUInt32LE(i) === 0x06054b50) return zip.readUInt16LE(i + 10);
  return -1;
}
