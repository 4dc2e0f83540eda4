import { rmSync } from 'node:fs';
import type { DevServer } from '../../src/temporal/dev-server';
import { HARNESS_ENV } from './constants';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__kaiTemporal as DevServer | undefined;
  await server?.stop();
  const bundlePath = process.env[HARNESS_ENV.bundlePath];
  if (bundlePath) rmSync(bundlePath, { force: true });
}
