// A throwaway database per test file on the local PostgreSQL (127.0.0.1:5432, trust auth), or on
// another server given by its admin URL (a private instance: see private-pg.ts).
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';

export const PG_ADMIN_URL = process.env.KAI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  newPool(max?: number): Pool;
  drop(): Promise<void>;
}

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function createTestDatabase(opts: { adminUrl?: string } = {}): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? PG_ADMIN_URL;
  const name = `kai_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
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
      await asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
