// kai's configuration: the seed's keys (takopi + takopi-linear) unchanged, with their defaults,
// plus kai's own sections. Objects are strict so an unknown key is reported, not ignored.
import { z } from 'zod';

const seconds = z.number().nonnegative();
const stringMap = z.record(z.string(), z.string());

export const linearFilesSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    auto_put: z.boolean().default(true),
    auto_put_mode: z.enum(['upload', 'prompt']).default('prompt'),
    uploads_dir: z.string().default('incoming'),
  })
  .prefault({});

export const linearTransportSchema = z
  .strictObject({
    oauth_token: z.string().optional(),
    app_id: z.string().optional(),
    gateway_database_url: z.string().optional(),
    poll_interval: seconds.default(5.0),
    poll_batch_size: z.number().int().positive().default(10),
    message_overflow: z.enum(['split', 'trim']).default('split'),
    max_body_chars: z.number().int().min(200).default(10000),
    plan_coalesce_s: seconds.default(1.0),
    ephemeral_activity_coalesce_s: seconds.default(0.2),
    download_attachments: z.boolean().default(true),
    attachment_allowed_hosts: z.array(z.string()).default(['uploads.linear.app']),
    attachment_max_bytes: z.number().int().positive().default(20_000_000),
    attachment_dir: z.string().default('.takopi-linear/attachments'),
    webhook_enabled: z.boolean().default(false),
    webhook_host: z.string().default('0.0.0.0'),
    webhook_port: z.number().int().min(0).max(65535).default(8080),
    webhook_path: z.string().startsWith('/').default('/webhooks/linear'),
    webhook_signing_secret: z.string().optional(),
    files: linearFilesSchema,
  })
  .prefault({});

export const linearPluginSchema = z
  .strictObject({
    project_map: stringMap.default({}),
    worktree_strategy: z.enum(['per_issue', 'shared']).default('per_issue'),
    branch_prefix: z.string().default('kai/'),
    success_state_name: z.string().optional(),
    success_state_names: z.array(z.string()).optional(),
    auto_labels_enabled: z.boolean().default(false),
    auto_labels: z
      .strictObject({
        processed: z.string().default('agent:processed'),
        completed: z.string().default('agent:completed'),
        failed: z.string().default('agent:failed'),
      })
      .prefault({}),
    subissues_enabled: z.boolean().default(false),
    subissues_max: z.number().int().min(0).default(5),
    comment_followups_enabled: z.boolean().default(true),
    comment_followups_debounce_seconds: seconds.default(0.5),
    event_prioritization_enabled: z.boolean().default(true),
    current_cycle_only: z.boolean().default(false),
    estimate_updates_enabled: z.boolean().default(false),
    project_models: stringMap.default({}),
    project_reasoning: stringMap.default({}),
    project_engines: stringMap.default({}),
  })
  .prefault({});

export const projectSchema = z
  .strictObject({
    /** A local checkout the worker uses as it is. */
    path: z.string().optional(),
    /** The remote (https://, ssh:// or file://): each worker keeps a bare mirror of it under its
     *  data directory and pushes every branch back to it. The token comes from [github] token /
     *  GITHUB_TOKEN, never from the URL. */
    url: z
      .string()
      .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(u), {
        message: 'must not carry a password or token: put the token in GITHUB_TOKEN (or [github] token) and give the URL without it',
      })
      .optional(),
    worktrees_dir: z.string().optional(),
    worktree_base: z.string().optional(),
    default_engine: z.string().optional(),
    /** takopi's Telegram chat binding: accepted so a takopi file loads, unused by kai. */
    chat_id: z.number().int().optional(),
  })
  .refine((p) => Boolean(p.path) !== Boolean(p.url), {
    message: 'give the repository as either url = "<git URL>" (a remote each worker mirrors) or path = "/local/checkout", exactly one of them',
  });

/** A worker name, as it appears in its task queue names. */
export const workerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    message: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit (a pod name fits)',
  });

export const temporalSchema = z
  .strictObject({
    address: z.string().default('localhost:7233'),
    namespace: z.string().default('default'),
    api_key: z.string().optional(),
    tls: z
      .strictObject({
        enabled: z.boolean().optional(),
        server_name: z.string().optional(),
        server_ca_cert_path: z.string().optional(),
        client_cert_path: z.string().optional(),
        client_key_path: z.string().optional(),
      })
      .optional(),
    task_queue: z.string().default('kai'),
    engine_task_queue: z.string().optional(),
    /** This worker's name (KAI_WORKER_NAME wins; the host name, a StatefulSet's pod name, by
     *  default): its own task queues, where the issues whose workspace it holds run, are named after it. */
    worker_name: workerNameSchema.optional(),
    /** The Temporal Web UI kai links sessions to (Linear's "Temporal run" link, `kai status`); no link when unset. `kai dev` and `kai demo` use the UI of the dev server they start. */
    web_ui_url: z.string().url().optional(),
    /** Where the worker serves Temporal's Prometheus metrics (host:port); off when unset. */
    metrics_bind_address: z.string().optional(),
  })
  .prefault({});

export const githubSchema = z
  .strictObject({
    token: z.string().optional(),
    api_url: z.string().default('https://api.github.com'),
    remote: z.string().default('origin'),
    /** owner/name; otherwise derived from the remote's URL. */
    repository: z.string().optional(),
    base_branch: z.string().optional(),
    draft: z.boolean().default(false),
    /** Branches kai never commits to or pushes (besides the base branch); `*` matches any run of
     *  characters, names compare case-insensitively. */
    protected_branches: z.array(z.string().min(1)).default(['main', 'master', 'develop', 'development', 'trunk', 'production', 'release', 'release/*', 'release-*', 'gh-pages']),
  })
  .prefault({});

export const engineSchema = z.strictObject({
  binary: z.string().optional(),
  args: z.array(z.string()).default([]),
  model: z.string().optional(),
  timeout_s: seconds.optional(),
  env: stringMap.default({}),
  /** `script` engine: a shell command run in the worktree. */
  command: z.string().optional(),
  /** Claude Code `--permission-mode` (default acceptEdits: a headless run must be able to edit). */
  permission_mode: z.string().optional(),
  /** Claude Code `--allowedTools`: what runs without a prompt (default: edit, run commands, plan). */
  allowed_tools: z.array(z.string()).optional(),
  /** Codex `--sandbox` (default workspace-write; danger-full-access where that sandbox cannot start). */
  sandbox: z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional(),
  /** OpenCode `--auto`: approve permissions the config does not deny (default true: nothing hangs). */
  auto_approve: z.boolean().optional(),
  /** API reconnects an engine may report before kai stops the run as unreachable (default 4). */
  max_reconnects: z.number().int().nonnegative().optional(),
});

export const limitsSchema = z
  .strictObject({
    concurrent_engine_runs: z.number().int().positive().default(4),
    engine_timeout_s: seconds.default(2 * 60 * 60),
    engine_heartbeat_timeout_s: seconds.default(60),
    idle_timeout_s: seconds.default(24 * 60 * 60),
    linear_requests_per_hour: z.number().int().positive().default(4500),
    webhook_body_limit_bytes: z.number().int().positive().default(1024 * 1024),
    /** How long a stopping worker lets running activities finish; deploy/ sizes the pod's
     *  terminationGracePeriodSeconds above it. */
    worker_shutdown_grace_s: seconds.default(30),
    /** How long a workspace step (prepare, files, commit and push, ...) waits for the worker that
     *  holds the issue to pick it up; past it the holder counts as gone and the turn moves. */
    holder_start_timeout_s: seconds.default(60),
    /** The same for an engine run, which may also wait for one of the holder's engine slots. */
    engine_start_timeout_s: seconds.default(15 * 60),
  })
  .prefault({});

export const linearApiSchema = z
  .strictObject({
    /** GraphQL endpoint; the emulator's in offline mode. */
    api_url: z.string().default('https://api.linear.app/graphql'),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    /** Where `kai auth linear` keeps OAuth tokens (mode 0600); default ~/.config/kai/linear-token.json. */
    token_file: z.string().optional(),
    /** OAuth endpoints: overridable so tests (and proxies) can point elsewhere. */
    token_url: z.string().url().default('https://api.linear.app/oauth/token'),
    authorize_url: z.string().url().default('https://linear.app/oauth/authorize'),
    /** Port of `kai auth linear`'s localhost callback; the app's redirect URI must match it. */
    redirect_port: z.number().int().min(0).max(65535).default(8976),
    /** Renew an expiring token this many seconds before it expires. */
    refresh_margin_s: seconds.default(300),
  })
  .prefault({});

export const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  })
  .prefault({});

export const workspaceSchema = z
  .strictObject({
    /** Remove the worktree when its workflow ends. */
    cleanup_on_end: z.boolean().default(true),
  })
  .prefault({});

export const configSchema = z.strictObject({
  transport: z.string().default('linear'),
  default_engine: z.string().default('claude'),
  projects: z.record(z.string(), projectSchema).default({}),
  transports: z
    .looseObject({ linear: linearTransportSchema })
    .prefault({}),
  plugins: z.looseObject({ linear: linearPluginSchema }).prefault({}),
  temporal: temporalSchema,
  github: githubSchema,
  engines: z.record(z.string(), engineSchema).default({}),
  limits: limitsSchema,
  linear: linearApiSchema,
  log: logSchema,
  workspace: workspaceSchema,
  database: z.strictObject({ url: z.string().optional() }).prefault({}),
  /** The worker's (and ingester's) own HTTP port for /metrics, /healthz and /readyz; off when unset. */
  metrics: z
    .strictObject({
      port: z.number().int().min(0).max(65535).optional(),
      /** Loopback unless configured: /metrics and /readyz (here and on the webhook and gateway
       *  servers) answer other hosts only when this is a non-loopback address. */
      host: z.string().default('127.0.0.1'),
    })
    .prefault({}),
});

export type KaiConfig = z.infer<typeof configSchema>;
export type LinearTransportConfig = z.infer<typeof linearTransportSchema>;
export type LinearPluginConfig = z.infer<typeof linearPluginSchema>;
export type EngineConfig = z.infer<typeof engineSchema>;

/** The configuration with every default filled in, as when no file is given. */
export function defaultConfig(): KaiConfig {
  return configSchema.parse({});
}
