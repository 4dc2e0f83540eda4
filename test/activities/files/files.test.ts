import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFilesActivities } from '../../../src/activities/files/activities';
import type { LinearUploader } from '../../../src/activities/linear/uploader';
import { configSchema } from '../../../src/config/schema';
import type { Workspace } from '../../../src/domain/workspace';

interface Seen {
  path: string;
  authorization?: string;
}

async function serve(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; host: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let allowed: Awaited<ReturnType<typeof serve>>;
let foreign: Awaited<ReturnType<typeof serve>>;
let root: string;
let ws: Workspace;
let outside: string;
const uploads: Array<{ name: string; contentType: string; data: Buffer }> = [];
const uploader: LinearUploader = {
  upload: async ({ filename: name, contentType = '', data }) => {
    uploads.push({ name, contentType, data: Buffer.from(data) });
    return `https://uploads.linear.app/fake/${uploads.length}/${encodeURIComponent(name)}`;
  },
};
const token = { accessToken: async () => 'lin_oauth_secret' };

beforeAll(async () => {
  foreign = await serve((_req, res) => res.end('foreign bytes'));
  allowed = await serve((req, res) => {
    switch (req.url) {
      case '/spec.txt':
        res.setHeader('content-type', 'text/plain');
        return void res.end('the spec');
      case '/big':
        res.setHeader('content-length', '5000');
        return void res.end(Buffer.alloc(5000, 1));
      case '/big-chunked':
        res.write(Buffer.alloc(800, 1));
        res.write(Buffer.alloc(800, 1));
        return void res.end();
      case '/redirect-off':
        res.statusCode = 302;
        res.setHeader('location', `http://${foreign.host}/steal`);
        return void res.end();
      case '/redirect-on':
        res.statusCode = 302;
        res.setHeader('location', '/spec.txt');
        return void res.end();
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});
afterAll(async () => {
  await new Promise((r) => allowed.server.close(r));
  await new Promise((r) => foreign.server.close(r));
});

beforeEach(() => {
  root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'kai-files-')));
  const wt = path.join(root, 'wt');
  outside = path.join(root, 'outside');
  mkdirSync(wt);
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret.txt'), 'secret');
  ws = { repoPath: wt, worktreePath: wt, branch: 'kai/AV-1' };
  allowed.seen.length = 0;
  foreign.seen.length = 0;
  uploads.length = 0;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function acts(files: Record<string, unknown> = {}, maxBytes = 1000) {
  const config = configSchema.parse({
    transports: { linear: { attachment_allowed_hosts: [allowed.host], attachment_max_bytes: maxBytes, files: { enabled: true, ...files } } },
  });
  return createFilesActivities({ config, uploader, token });
}

describe('attachment downloads', () => {
  it('saves attachments from an allowed host in the uploads dir, sending the Linear token there', async () => {
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${allowed.host}/spec.txt`, name: 'spec.txt' }], workspace: ws });
    expect(saved).toEqual(['incoming/spec.txt']);
    expect(readFileSync(path.join(ws.worktreePath, 'incoming', 'spec.txt'), 'utf8')).toBe('the spec');
    expect(allowed.seen[0]!.authorization).toBe('Bearer lin_oauth_secret');
  });

  it('uses attachment_dir when auto_put is off and follows a redirect that stays on allowed hosts', async () => {
    const saved = await acts({ auto_put: false }).filesDownloadAttachments({ attachments: [{ url: `http://${allowed.host}/redirect-on` }], workspace: ws });
    expect(saved).toEqual(['.takopi-linear/attachments/redirect-on']);
    expect(readFileSync(path.join(ws.worktreePath, saved[0]!), 'utf8')).toBe('the spec');
  });

  it('refuses a foreign host without contacting it or sending the token', async () => {
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${foreign.host}/x.txt` }], workspace: ws });
    expect(saved).toEqual([]);
    expect(foreign.seen).toHaveLength(0);
  });

  it('refuses a redirect off the allowed hosts and never sends the token there', async () => {
    const saved = await acts().filesDownloadAttachments({ attachments: [{ url: `http://${allowed.host}/redirect-off`, name: 'a.txt' }], workspace: ws });
    expect(saved).toEqual([]);
    expect(foreign.seen).toHaveLength(0);
    expect(existsSync(path.join(ws.worktreePath, 'incoming', 'a.txt'))).toBe(false);
  });

  it('stops at attachment_max_bytes, declared or streamed, leaving no partial file', async () => {
    const saved = await acts().filesDownloadAttachments({
      attachments: [
        { url: `http://${allowed.host}/big`, name: 'big.bin' },
        { url: `http://${allowed.host}/big-chunked`, name: 'chunked.bin' },
        { url: `http://${allowed.host}/spec.txt`, name: 'ok.txt' },
      ],
      workspace: ws,
    });
    expect(saved).toEqual(['incoming/ok.txt']);
    const dir = path.join(ws.worktreePath, 'incoming');
    expect(readdirSync(dir)).toEqual(['ok.txt']);
  });

  it('does nothing when download_attachments is off', async () => {
    const config = configSchema.parse({ transports: { linear: { download_attachments: false, attachment_allowed_hosts: [allowed.host] } } });
    const files = createFilesActivities({ config, uploader, token });
    expect(await files.filesDownloadAttachments({ attachments: [{ url: `http://${allowed.host}/spec.txt` }], workspace: ws })).toEqual([]);
    expect(allowed.seen).toHaveLength(0);
  });
});

describe('/file put and /file get', () => {
  const cmd = (op: 'put' | 'get', p: string, attachments: Array<{ url: string; name?: string }> = []) => ({
    op,
    path: p,
    attachments,
    workspace: ws,
    agentSessionId: 'as-1',
  });

  it('puts the attached file at the path in the worktree', async () => {
    const reply = await acts().filesCommand(cmd('put', 'docs/spec.txt', [{ url: `http://${allowed.host}/spec.txt` }]));
    expect(reply).toBe('Saved `docs/spec.txt` (8 B) in the working tree.');
    expect(readFileSync(path.join(ws.worktreePath, 'docs', 'spec.txt'), 'utf8')).toBe('the spec');
  });

  it('gets a file by uploading it to Linear and replying with its link', async () => {
    writeFileSync(path.join(ws.worktreePath, 'report.md'), '# report');
    const reply = await acts().filesCommand(cmd('get', 'report.md'));
    expect(reply).toBe('[report.md](https://uploads.linear.app/fake/1/report.md) (8 B)');
    expect(uploads[0]).toMatchObject({ name: 'report.md', contentType: 'text/markdown' });
    expect(uploads[0]!.data.toString()).toBe('# report');
  });

  it('gets a directory as a zip without .git and without symlinked files', async () => {
    mkdirSync(path.join(ws.worktreePath, 'out', 'sub'), { recursive: true });
    mkdirSync(path.join(ws.worktreePath, 'out', '.git'));
    writeFileSync(path.join(ws.worktreePath, 'out', 'a.txt'), 'alpha');
    writeFileSync(path.join(ws.worktreePath, 'out', 'sub', 'b.txt'), 'beta');
    writeFileSync(path.join(ws.worktreePath, 'out', '.git', 'config'), 'x');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws.worktreePath, 'out', 'link.txt'));
    const reply = await acts().filesCommand(cmd('get', 'out'));
    expect(reply).toMatch(/^\[out\.zip\]\(https:\/\/uploads\.linear\.app\/fake\/1\/out\.zip\) \(.+, 2 files zipped\)$/);
    const zip = uploads[0]!.data;
    expect(uploads[0]!.contentType).toBe('application/zip');
    const names = zipEntryNames(zip);
    expect(names.sort()).toEqual(['a.txt', 'sub/b.txt']);
    expect(zip.includes(Buffer.from('secret'))).toBe(false);
  });

  it.each([
    ['../outside/secret.txt', /goes up/],
    ['a/../../outside/secret.txt', /goes up/],
    ['/etc/passwd', /absolute path/],
    ['~/.ssh/id_rsa', /absolute path/],
    ['.git/config', /inside .git/],
    ['', /Give a path/],
  ])('refuses /file get %s with a clear reply', async (p, why) => {
    const reply = await acts().filesCommand(cmd('get', p));
    expect(reply).toMatch(/^Refused: /);
    expect(reply).toMatch(why);
    expect(uploads).toHaveLength(0);
  });

  it('refuses symlinks that lead out of the worktree, for get and put', async () => {
    symlinkSync(outside, path.join(ws.worktreePath, 'escape'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws.worktreePath, 'secret-link'));
    expect(await acts().filesCommand(cmd('get', 'escape/secret.txt'))).toMatch(/^Refused: .*symlink/);
    expect(await acts().filesCommand(cmd('get', 'secret-link'))).toMatch(/^Refused: .*symlink/);
    const put = await acts().filesCommand(cmd('put', 'escape/planted.txt', [{ url: `http://${allowed.host}/spec.txt` }]));
    expect(put).toMatch(/^Refused: .*symlink/);
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
    symlinkSync(path.join(outside, 'nothing-yet.txt'), path.join(ws.worktreePath, 'dangling'));
    expect(await acts().filesCommand(cmd('put', 'dangling', [{ url: `http://${allowed.host}/spec.txt` }]))).toMatch(/^Refused: /);
    expect(existsSync(path.join(outside, 'nothing-yet.txt'))).toBe(false);
    expect(uploads).toHaveLength(0);
  });

  it('applies the size cap both ways', async () => {
    writeFileSync(path.join(ws.worktreePath, 'huge.bin'), Buffer.alloc(2000, 7));
    expect(await acts().filesCommand(cmd('get', 'huge.bin'))).toMatch(/^Refused: .*over the .* limit/);
    mkdirSync(path.join(ws.worktreePath, 'many'));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(ws.worktreePath, 'many', `${i}.bin`), randomBytes(400));
    expect(await acts().filesCommand(cmd('get', 'many'))).toMatch(/^Refused: .*over the 1000-byte limit/);
    expect(uploads).toHaveLength(0);
    expect(await acts().filesCommand(cmd('put', 'big.bin', [{ url: `http://${allowed.host}/big` }]))).toMatch(/^Refused: .*attachment_max_bytes/);
    expect(existsSync(path.join(ws.worktreePath, 'big.bin'))).toBe(false);
  });

  it('refuses a put from a foreign host and explains when file transfer is off', async () => {
    expect(await acts().filesCommand(cmd('put', 'x.txt', [{ url: `http://${foreign.host}/x` }]))).toMatch(/^Refused: .*not allowed/);
    expect(foreign.seen).toHaveLength(0);
    expect(await acts().filesCommand(cmd('put', 'x.txt'))).toMatch(/Attach the file/);
    const off = createFilesActivities({ config: configSchema.parse({}), uploader, token });
    expect(await off.filesCommand(cmd('get', 'x.txt'))).toMatch(/File transfer is turned off/);
  });
});

/** Names in a zip's central directory. */
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
