// `kai bench` runs the benchmark, which lives beside src/ in a checkout (bench/) and is not part
// of the build or the image: this command alone loads it, from source, through the project's
// swc hook (scripts/ts-register.js), as the tests do.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KaiConfig } from '../config/schema';

/** What `kai bench` calls in bench/index.ts. */
export interface BenchModule {
  runBench(opts: { config: KaiConfig; quick: boolean }): Promise<number>;
}

/** The checkout kai runs from: two levels above src/cli/ and dist/cli/ alike. */
const CHECKOUT = resolve(__dirname, '..', '..');

export function loadBench(root: string = CHECKOUT): BenchModule {
  const entry = join(root, 'bench', 'index.ts');
  const hook = join(root, 'scripts', 'ts-register.js');
  if (!existsSync(entry) || !existsSync(hook)) {
    throw new Error(
      `kai bench runs in a checkout of kai's repository: ${entry} is not here (the benchmark is not part of the build or the image). ` +
        'Clone the repository, then run npm install && npm run bench.',
    );
  }
  require(hook);
  return require(entry) as BenchModule;
}
