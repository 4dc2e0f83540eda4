// Temporal: the server answers, the namespace exists, and kai's search attributes are registered.
import { Client, type ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../../names';
import { connectTracked, type TrackedConnection } from '../../temporal/calls';
import { temporalSettings } from '../../temporal/connect';
import { missingSearchAttributes } from '../../temporal/search-attributes';
import { withTimeout } from '../../util';
import { fail, messageOf, pass, skip, type CheckResult, type DoctorCheck, type DoctorContext } from './check';

export const temporalCheck: DoctorCheck = { name: 'Temporal', run: temporalAndSearchAttributes };

async function temporalAndSearchAttributes({ config, env, timeoutMs: ms }: DoctorContext): Promise<CheckResult[]> {
  const saSkipped = skip('Search attributes', 'not checked: Temporal is not reachable');
  let settings;
  try {
    settings = temporalSettings(config, env);
  } catch (err) {
    return [fail('Temporal', `cannot build the connection settings: ${messageOf(err)}`, 'Check the files named under [temporal.tls] (or TEMPORAL_TLS_*).'), saSkipped];
  }
  const { address, namespace } = settings;
  let tracked: TrackedConnection;
  try {
    tracked = await withTimeout(connectTracked({ ...(settings.connection as ConnectionOptions), connectTimeout: ms }), ms + 1_000, {
      late: (connection) => void connection.close(0).catch(() => undefined),
    });
  } catch (err) {
    return [
      fail(
        'Temporal',
        `cannot reach ${address}: ${messageOf(err)}`,
        'Start Temporal (`kai dev`, or `temporal server start-dev`), or point TEMPORAL_ADDRESS / temporal.address at your server.',
      ),
      saSkipped,
    ];
  }
  const { connection } = tracked;
  try {
    try {
      await withTimeout(connection.workflowService.describeNamespace({ namespace }), ms);
    } catch (err) {
      const code = (err as { code?: number }).code;
      const result =
        code === 5
          ? fail('Temporal', `reachable at ${address}, but namespace "${namespace}" does not exist`, `Create it (\`temporal operator namespace create --namespace ${namespace}\`) or set TEMPORAL_NAMESPACE / temporal.namespace.`)
          : code === 16 || code === 7
            ? fail('Temporal', `reachable at ${address}, but it refused kai's credentials: ${messageOf(err)}`, 'Check TEMPORAL_API_KEY / temporal.api_key or the client certificate under [temporal.tls].')
            : fail('Temporal', `reachable at ${address}, but describing namespace "${namespace}" failed: ${messageOf(err)}`, 'Check the server logs and the namespace name (temporal.namespace).');
      return [result, skip('Search attributes', 'not checked: the namespace is not available')];
    }
    const results = [pass('Temporal', `reachable at ${address}, namespace "${namespace}" present`)];
    try {
      const client = new Client({ connection, namespace });
      const missing = await withTimeout(missingSearchAttributes(client, namespace), ms);
      const all = Object.keys(SEARCH_ATTRIBUTE_TYPES);
      if (missing.length === 0) results.push(pass('Search attributes', `all ${all.length} registered (${all.join(', ')})`));
      else
        results.push(
          fail(
            'Search attributes',
            `missing in namespace "${namespace}": ${missing.join(', ')}`,
            `Start \`kai worker\` once (it registers them), or run ${missing.map((n) => `\`temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword\``).join(', ')}.`,
          ),
        );
    } catch (err) {
      results.push(fail('Search attributes', `cannot list them: ${messageOf(err)}`, 'kai needs the operator service; check that the credentials may list search attributes.'));
    }
    return results;
  } finally {
    // A check that ran out of time may still be retrying: close without waiting for it.
    await tracked.close(0).catch(() => undefined);
  }
}
