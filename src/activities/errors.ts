// Failures activities raise. Their type names live in src/domain/errors.ts, which the
// workflow's retry policies import too.
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../domain/errors';

export { ErrorTypes };

export function permanent(type: keyof typeof ErrorTypes, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorTypes[type],
    message,
    nonRetryable: true,
    details: details === undefined ? undefined : [details],
  });
}

/** A transient failure that should be retried after `delayMs` (rate limits give the delay). */
export function retryAfter(message: string, delayMs: number, type = 'RetryLater'): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nextRetryDelay: Math.max(0, Math.ceil(delayMs)) });
}
