// Which configuration values are secrets, and a masked copy of a configuration for printing.
// The rules live in src/observability/mask.ts, shared with log redaction.
import { MASK, findSecrets, isSecretKey, maskString, maskValue } from '../observability/mask';
import type { KaiConfig } from './schema';

export { MASK, isSecretKey };

/** The URL (or DSN) with any credential in it replaced by the mask. */
export function maskUrl(value: string): string {
  return maskString(value);
}

/** A deep copy of the configuration with every secret replaced by `********`: secret-named keys
 *  at any depth (case-insensitive: *token*, *secret*, *password*, *_KEY, *_PAT, ...), passwords in
 *  connection URLs and DSNs, secret flags in `args`, and token-shaped values. Safe to print or log. */
export function maskSecrets<T extends object = KaiConfig>(config: T, known: readonly string[] = []): T {
  return maskValue(config, { known, maxDepth: 64, maxNodes: 1_000_000 });
}

/** Every secret string held in a configuration, for tests and output scrubbing. */
export function secretValues(config: object): string[] {
  return findSecrets(config, { maxDepth: 64, maxNodes: 1_000_000 });
}
