import type { KaiConfig } from '../config/schema';

export interface DemoOptions {
  config: KaiConfig;
  json: boolean;
  keep: boolean;
  temporalAddress?: string;
}

export async function runDemo(_opts: DemoOptions): Promise<number> {
  throw new Error('kai demo is being built (issue 8)');
}
