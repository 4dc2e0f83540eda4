// PostgreSQL (gateway and ingester only): reachable, with the events table at kai's schema version.
import { Client as PgClient } from 'pg';
import { MIGRATIONS } from '../../ingest/migrations';
import { withTimeout } from '../../util';
import { fail, messageOf, pass, skip, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const postgresCheck: DoctorCheck = { name: 'PostgreSQL', run: async (ctx) => [await postgres(ctx)] };

function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'the configured database';
  }
}

async function postgres({ config, timeoutMs: ms, secrets }: DoctorContext): Promise<CheckResult> {
  const url = config.database.url ?? config.transports.linear.gateway_database_url;
  if (!url) return skip('PostgreSQL', 'not configured (DATABASE_URL / database.url): only `kai gateway` and `kai ingest` need it');
  try {
    const pw = new URL(url).password;
    if (pw) secrets.add(decodeURIComponent(pw));
  } catch {
    // not a URL: pg reports it below
  }
  const where = describeDatabase(url);
  const latest = Math.max(...MIGRATIONS.map((m) => m.version));
  const client = new PgClient({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms, statement_timeout: ms });
  client.on('error', () => undefined);
  try {
    await withTimeout(client.connect(), ms + 500);
  } catch (err) {
    return fail('PostgreSQL', `cannot connect to ${where}: ${messageOf(err)}`, 'Start PostgreSQL or fix DATABASE_URL / database.url.');
  }
  try {
    const { rows } = await client.query<{ events: string | null; migrations: string | null }>(
      `SELECT to_regclass('events')::text AS events, to_regclass('kai_migrations')::text AS migrations`,
    );
    if (!rows[0]?.events) return fail('PostgreSQL', `reachable at ${where}, but there is no events table`, 'Run `kai migrate`.');
    let version = 0;
    if (rows[0].migrations) {
      const v = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM kai_migrations');
      version = v.rows[0]?.v ?? 0;
    }
    if (version < latest) return fail('PostgreSQL', `reachable at ${where}; the events table is at schema version ${version}, kai needs ${latest}`, 'Run `kai migrate`.');
    return pass('PostgreSQL', `reachable at ${where}; events table migrated (schema version ${version})`);
  } catch (err) {
    return fail('PostgreSQL', `connected to ${where}, but reading the schema failed: ${messageOf(err)}`, 'Check that the database user may read the events table; run `kai migrate`.');
  } finally {
    await client.end().catch(() => undefined);
  }
}
