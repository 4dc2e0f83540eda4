// Failure types activities raise, shared with the workflow's retry policies by name.
import { ApplicationFailure } from '@temporalio/common';

export const ErrorTypes = {
  /** Linear refused the input or the entity is gone (`Entity not found`): permanent. */
  linearUser: 'LinearUserError',
  /** A piece kai needs is not configured or not wired into this worker: permanent. */
  notConfigured: 'NotConfigured',
  /** Bad input from a user (branch name, path, ...): permanent. */
  invalidInput: 'InvalidInput',
  /** Unknown or missing engine binary: permanent. */
  engineUnavailable: 'EngineUnavailable',
  engineFailed: 'EngineFailed',
  engineTimeout: 'EngineTimeout',
} as const;

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
