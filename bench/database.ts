// A throwaway PostgreSQL database for the benchmark (created, migrated, dropped at the end).
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../src/ingest';

export interface BenchDatabase {
  url: string;
  /** A pool on the bench database; closed by drop(). */
  pool(max?: number): Pool;
  /** Empties the events table between measurements. */
  truncate(): Promise<void>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `kai_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`);
  const pools: Pool[] = [];
  const pool = (max = 10) => {
    const p = new Pool({ connectionString: url, max });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const main = pool(4);
  await migrate(main);
  return {
    url,
    pool,
    async truncate() {
      await main.query('TRUNCATE events');
    },
    async drop() {
      await Promise.allSettled(pools.map((p) => p.end()));
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
