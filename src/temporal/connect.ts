// Temporal connection settings: kai.toml's [temporal] section, overridden by the standard
// TEMPORAL_* environment variables and profile files of @temporalio/envconfig.
import { readFileSync } from 'node:fs';
import { Client, type ConnectionOptions } from '@temporalio/client';
import { connectTracked } from './calls';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import * as os from 'node:os';
import { workerNameSchema, type KaiConfig } from '../config/schema';
import { engineTaskQueueFor } from '../names';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  engineTaskQueue: string;
  /** This worker's name: KAI_WORKER_NAME, else [temporal] worker_name, else the host name. */
  workerName: string;
  /** The Temporal Web UI, when configured. */
  webUiUrl?: string;
  connection: NativeConnectionOptions;
}

export function temporalSettings(config: KaiConfig, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const t = config.temporal;
  const base: NativeConnectionOptions = { address: t.address };
  if (t.api_key) base.apiKey = t.api_key;
  if (t.tls && t.tls.enabled !== false) {
    base.tls = {
      serverNameOverride: t.tls.server_name,
      serverRootCACertificate: t.tls.server_ca_cert_path ? readFileSync(t.tls.server_ca_cert_path) : undefined,
      clientCertPair:
        t.tls.client_cert_path && t.tls.client_key_path
          ? { crt: readFileSync(t.tls.client_cert_path), key: readFileSync(t.tls.client_key_path) }
          : undefined,
    };
  }
  let namespace = t.namespace;
  // The envconfig conventions win over the file: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
  // TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE.
  const useFile = Boolean(env.TEMPORAL_CONFIG_FILE || env.TEMPORAL_PROFILE);
  const profile = loadClientConfigProfile({
    disableFile: !useFile,
    overrideEnvVars: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
  });
  const fromEnv = toClientOptions(profile);
  const connection: NativeConnectionOptions = { ...base };
  if (profile.address) connection.address = fromEnv.connectionOptions.address;
  if (profile.apiKey) connection.apiKey = fromEnv.connectionOptions.apiKey;
  if (profile.tls) connection.tls = fromEnv.connectionOptions.tls;
  if (profile.grpcMeta) connection.metadata = fromEnv.connectionOptions.metadata;
  if (fromEnv.namespace) namespace = fromEnv.namespace;
  return {
    address: connection.address ?? t.address,
    namespace,
    taskQueue: t.task_queue,
    engineTaskQueue: t.engine_task_queue ?? engineTaskQueueFor(t.task_queue),
    workerName: workerNameFrom(env, t.worker_name),
    webUiUrl: t.web_ui_url,
    connection,
  };
}

function workerNameFrom(env: NodeJS.ProcessEnv, configured: string | undefined): string {
  const fromEnv = env.KAI_WORKER_NAME?.trim();
  if (fromEnv) {
    const checked = workerNameSchema.safeParse(fromEnv);
    if (!checked.success) throw new Error(`KAI_WORKER_NAME "${fromEnv}" ${checked.error.issues[0]?.message ?? 'is not a valid worker name'}.`);
    return fromEnv;
  }
  return configured ?? hostWorkerName();
}

/** The host name as a worker name (a pod name already is one). */
function hostWorkerName(): string {
  return os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100) || 'kai-worker';
}

const closers = new WeakMap<Client, (settleMs?: number) => Promise<void>>();

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const tracked = await connectTracked(settings.connection as ConnectionOptions);
  const client = new Client({ connection: tracked.connection, namespace: settings.namespace });
  closers.set(client, tracked.close);
  return client;
}

/** Closes a client from connectClient once its calls in flight (retries included) settle. */
export async function closeClient(client: Client, settleMs?: number): Promise<void> {
  const close = closers.get(client);
  if (close) await close(settleMs);
  else await client.connection.close();
}

export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connection);
}
