// A smart-HTTP git server for tests: git's own http-backend (CGI) behind a loopback HTTP server
// that wants Basic auth with one token as the password, as GitHub does for https remotes (401
// with a Basic challenge otherwise). It records the Authorization headers it saw.
import { execFileSync, spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HttpGitServer {
  /** http://127.0.0.1:<port>/<name>.git for a bare repository under the root. */
  urlOf(name: string): string;
  /** Every Authorization header received (to prove which requests carried the token). */
  authorizations: Array<string | undefined>;
  stop(): Promise<void>;
}

const backend = path.join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');

export async function startHttpGitServer(root: string, token: string): Promise<HttpGitServer> {
  const authorizations: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization;
    authorizations.push(auth);
    const password = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':') : undefined;
    if (password !== token) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="kai-test"' });
      res.end('Authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const cgi = spawn(backend, [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'kai',
        REMOTE_ADDR: '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const sep = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
      if (sep < 0) return;
      const sepLen = head[sep] === 13 ? 4 : 2;
      let status = 200;
      for (const line of head.subarray(0, sep).toString('utf8').split(/\r?\n/)) {
        const i = line.indexOf(':');
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(key, value);
      }
      res.statusCode = status;
      headerDone = true;
      res.write(head.subarray(sep + sepLen));
    });
    cgi.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    urlOf: (name) => `http://127.0.0.1:${port}/${name}.git`,
    authorizations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
