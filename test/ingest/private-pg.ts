// A private PostgreSQL 15 instance for a test that must restart or stop its server: initdb into a
// temp dir, started on a free loopback port with its socket in that dir and trust auth. The
// shared cluster on 127.0.0.1:5432 is never touched. initdb and postgres refuse to run as root,
// so as root they run as the `postgres` OS user (runuser), which owns the temp dir.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL_HINT =
  'install the PostgreSQL 15 server (Debian/Ubuntu: `apt-get install postgresql-15`), ' +
  'or point KAI_TEST_PG_BINDIR at a directory holding initdb, pg_ctl and postgres';

export interface PrivatePostgres {
  /** Admin URL (user postgres, database postgres) of the private instance. */
  url: string;
  port: number;
  dir: string;
  /** Restarts the instance (fast shutdown: open connections are cut, as in a real restart). */
  restart(): void;
  /** Stops the instance and removes its directory; safe to call twice. */
  stop(): void;
}

function binDir(): string {
  const candidates = [process.env.KAI_TEST_PG_BINDIR, '/usr/lib/postgresql/15/bin'];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on PATH: the fixed path above is the other place to look
  }
  const dirs = [...new Set(candidates.filter((d): d is string => !!d))];
  for (const dir of dirs) {
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)))) return dir;
  }
  throw new Error(`PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in ${dirs.join(', ')}: ${INSTALL_HINT}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    try {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      owner = { uid: id('-u'), gid: id('-g') };
    } catch {
      throw new Error(`running as root, but there is no \`postgres\` OS user to run initdb and postgres as: ${INSTALL_HINT}`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'kai-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const run = (tool: string, args: string[]): void => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    try {
      execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, cwd: dir });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      const serverLog = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(`${tool} ${args[0] ?? ''} failed: ${e.stderr?.toString().trim() || e.message}\n${serverLog}`);
    }
  };
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } catch {
        // pg_ctl could not stop it: kill the postmaster named in its pid file
        try {
          process.kill(Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // forceExit or a crash must not leave a stray server behind either.
  process.on('exit', stop);
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid);
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`;
      try {
        run('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', opts]);
      } catch (err) {
        if (attempt < 3) continue; // the port was taken in between: try another
        throw err;
      }
      return {
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        port,
        dir,
        restart: () => run('pg_ctl', ['restart', '-D', data, '-l', log, '-m', 'fast', '-w', '-t', '60']),
        stop,
      };
    }
  } catch (err) {
    stop();
    throw err;
  }
}
