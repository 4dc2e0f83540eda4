// kai's search attributes must exist in the namespace before a session upserts them (an
// unknown attribute fails the workflow task). The worker registers missing ones at start.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from '../names';

export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const res = await client.connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set([...Object.keys(res.customAttributes ?? {}), ...Object.keys(res.systemAttributes ?? {})]);
  return Object.keys(SEARCH_ATTRIBUTE_TYPES).filter((name) => !have.has(name));
}

/** Registers what is missing; returns the names it added. Throws with a fix when it cannot. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(client, namespace);
  if (missing.length === 0) return [];
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    const cmds = missing.map((n) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword`).join('\n  ');
    throw new Error(`kai's search attributes are missing in namespace "${namespace}" and could not be added (${(err as Error).message}). Add them with:\n  ${cmds}`);
  }
  return missing;
}
