// A throwaway database per test file on the local PostgreSQL (127.0.0.1:5432, trust auth).
// Test files hold a shared advisory lock while they run; the restart test takes it exclusively,
// so a Postgres restart never hits another test file mid-way.
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';

export const PG_ADMIN_URL = process.env.KAI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RESTART_LOCK = 0x6b616952;

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  newPool(max?: number): Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(opts: { exclusive?: boolean } = {}): Promise<TestDatabase> {
  const name = `kai_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const lock = new Client({ connectionString: PG_ADMIN_URL });
  lock.on('error', () => undefined);
  await lock.connect();
  await lock.query(opts.exclusive ? 'SELECT pg_advisory_lock($1)' : 'SELECT pg_advisory_lock_shared($1)', [RESTART_LOCK]);
  await lock.query(`CREATE DATABASE ${name}`);
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const pools: Pool[] = [];
  const newPool = (max = 10) => {
    const p = new Pool({ connectionString: url, max, connectionTimeoutMillis: 3000 });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const pool = newPool();
  return {
    name,
    url,
    pool,
    newPool,
    async drop() {
      await Promise.allSettled(pools.map((p) => p.end()));
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      admin.on('error', () => undefined);
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await lock.end().catch(() => undefined);
    },
  };
}
