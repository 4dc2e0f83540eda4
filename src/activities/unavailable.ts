// An activity group this worker has no implementation for fails loudly and permanently,
// naming what is missing, instead of pretending to succeed.
import { permanent } from './errors';

export function unavailableActivities<T extends object>(
  names: ReadonlyArray<keyof T & string>,
  why: string,
): T {
  return Object.fromEntries(
    names.map((name) => [
      name,
      async () => {
        throw permanent('notConfigured', `${name} is unavailable in this worker: ${why}`);
      },
    ]),
  ) as T;
}
