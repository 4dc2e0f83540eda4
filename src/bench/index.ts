import type { KaiConfig } from '../config/schema';

export interface BenchOptions {
  config: KaiConfig;
  quick: boolean;
}

export async function runBench(_opts: BenchOptions): Promise<number> {
  throw new Error('kai bench is being built (issue 8)');
}
