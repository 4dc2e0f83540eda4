// Names of the failure types kai's activities raise. The activities create failures with them
// (src/activities/errors.ts) and the workflow's retry policies list them: one spelling each.
// Plain strings, so workflow code may import this module.

export const ErrorTypes = {
  /** Linear refused the input or the entity is gone (`Entity not found`): permanent. */
  linearUser: 'LinearUserError',
  /** A piece kai needs is not configured or not wired into this worker: permanent. */
  notConfigured: 'NotConfigured',
  /** Bad input from a user (branch name, path, ...): permanent. */
  invalidInput: 'InvalidInput',
  /** Unknown or missing engine binary: permanent. */
  engineUnavailable: 'EngineUnavailable',
  /** The engine ran and reported failure; raised by the workflow, never retried. */
  engineFailed: 'EngineFailed',
} as const;

export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];

/** Failures no retry can fix: every activity class stops retrying on these. */
export const PERMANENT_ERROR_TYPES: readonly ErrorType[] = [
  ErrorTypes.linearUser,
  ErrorTypes.notConfigured,
  ErrorTypes.invalidInput,
  ErrorTypes.engineUnavailable,
];
