// What a `kai doctor` check is: a name, and a function from the doctor's context to one or more
// result lines. Each check lives in its own file and is listed in ./checks.ts.
import type { KaiConfig } from '../../config/schema';
import { errorText } from '../../util';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name of the check ("Temporal", "Linear token", "Repository app", ...). */
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it; printed for failures and warnings. */
  fix?: string;
}

/** What every check is given. */
export interface DoctorContext {
  config: KaiConfig;
  /** PATH, GITHUB_TOKEN, LINEAR_WEBHOOK_SECRET, TEMPORAL_*...: the process's environment by default. */
  env: NodeJS.ProcessEnv;
  /** Bound on each network call or command, in ms. */
  timeoutMs: number;
  /** Every secret a check handles (a token it read or minted) goes here, so no output shows it. */
  secrets: Set<string>;
  /** Results one check computes and another reads (the repositories' GitHub remotes, ...), each
   *  computed once per run: `shared('key', compute)`. */
  shared<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export interface DoctorCheck {
  /** The name a failure of the check itself is reported under. */
  name: string;
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

export const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'fail', detail, fix });
export const warn = (check: string, detail: string, fix: string): CheckResult => ({ check, status: 'warn', detail, fix });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });

/** The first line of an error's text, capped, for a result's detail. */
export const messageOf = (err: unknown): string => errorText(err, { firstLine: true, maxChars: 300 });

export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim().length > 0) ?? '').trim().slice(0, 120);
}
