// An ingester in its own process, for the killed-ingester test: runs kai's TypeScript through
// @swc/core (as jest does), claims from KAI_TEST_DB_URL, and hangs in the signal of every row
// (printing "claimed <deliveryId>") so the test can SIGKILL it while it holds its claims.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compile(module, filename) {
  const out = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(out.code, filename);
};

const { Pool } = require('pg');
const pino = require('pino');
const { startIngester } = require('../../src/ingest/index.ts');

const pool = new Pool({ connectionString: process.env.KAI_TEST_DB_URL, max: 4 });
pool.on('error', () => undefined);
const hang = (event) => {
  process.stdout.write(`claimed ${event.payload.deliveryId}\n`);
  return new Promise(() => undefined);
};
startIngester({
  pool,
  sessions: { send: hang, sendIfRunning: hang },
  logger: pino({ level: 'silent' }),
  appUserId: 'app-user-kai',
  ingesterId: 'child-ingester',
  leaseMs: Number(process.env.KAI_TEST_LEASE_MS ?? 1500),
  pollIntervalMs: 100,
});
