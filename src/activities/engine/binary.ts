// Finding an engine's binary before starting it, so "not installed" is a clear permanent error.
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

/** Absolute path of an executable, looked up on PATH when the name has no slash. */
export function findExecutable(name: string, envPath: string | undefined = process.env.PATH): string | undefined {
  const candidates = name.includes('/') ? [path.resolve(name)] : (envPath ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
