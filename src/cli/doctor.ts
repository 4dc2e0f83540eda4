import type { KaiConfig } from '../config/schema';

export interface DoctorOptions {
  config: KaiConfig;
  print: (line: string) => void;
}

export async function runDoctor(_opts: DoctorOptions): Promise<number> {
  throw new Error('kai doctor is being built (issue 7)');
}
