// kai as it runs in a cluster, on one machine: the real worker (real activities, the Linear and
// GitHub emulators, a local git repository) on the test Temporal server, and two webhook servers
// behind a small balancer that hands each of the Linear emulator's deliveries to one of them in
// turn. One server knows kai's app user id from config, the other from the viewer query; either
// can be restarted while the other keeps serving, as a rolling deploy does.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startLocalStack, type LocalStack, type OfflineWorld } from '../../src/app/stack';
import type { SessionClient } from '../../src/client';
import { demoConfig } from '../../src/cli/demo';
import { defaultConfig, type KaiConfig } from '../../src/config/schema';
import { startWebhookServer, webhookDepsFromConfig, type StartedWebhookServer } from '../../src/webhook';
import { temporalAddress, uniqueTaskQueue, workflowBundle } from '../harness/temporal';

const quietLogger = () => pino({ level: process.env.KAI_TEST_LOG ? 'debug' : 'silent' });

/**
 * The engine: records each run (its agent session, directory and prompt) in `$KAI_E2E_RUNS`, shows
 * progress, and answers. A prompt with SLOW-WORK works (an action every 0.1 s) until stopped;
 * PAUSE-WORK works for 2 s; LONG-ANSWER answers with about 33,000 characters.
 */
const ENGINE = `#!/bin/sh
run=$(mktemp "$KAI_E2E_RUNS/run.XXXXXX")
{ printf '%s\\n' "$KAI_AGENT_SESSION_ID"; printf '%s\\n' "$PWD"; printf '%s' "$KAI_PROMPT"; } > "$run"
printf '%s\\n' '{"type":"thought","text":"Reading the request."}'
case "$KAI_PROMPT" in
  *SLOW-WORK*) steps=300 ;;
  *PAUSE-WORK*) steps=20 ;;
  *) steps=0 ;;
esac
i=0
while [ $i -lt $steps ]; do
  printf '{"type":"action","id":"s%s","kind":"command","title":"step %s","phase":"started"}\\n' $i $i
  sleep 0.1
  printf '{"type":"action","id":"s%s","kind":"command","title":"step %s","phase":"completed","ok":true}\\n' $i $i
  i=$((i+1))
done
case "$KAI_PROMPT" in
  *LONG-ANSWER*)
    awk 'BEGIN { s = ""; for (i = 0; i < 30; i++) { s = s "Part " i ":"; for (j = 0; j < 90; j++) s = s " lorem ipsum"; s = s "\\\\n\\\\n" }
      printf "{\\"type\\":\\"completed\\",\\"ok\\":true,\\"answer\\":\\"%s\\"}\\n", s }' ;;
  *) printf '%s\\n' '{"type":"completed","ok":true,"answer":"Answered."}' ;;
esac
`;

export interface EngineRun {
  agentSessionId: string;
  /** The working tree the engine ran in. */
  cwd: string;
  prompt: string;
}

export interface Delivery {
  replica: string;
  event: string;
  /** For Comment deliveries: whether kai's app user wrote the comment (kai's own echo). */
  fromApp: boolean;
  status: number;
  outcome?: string;
}

export interface Replica {
  name: string;
  server: StartedWebhookServer;
  up: boolean;
  restarts: number;
}

export interface Cluster {
  stack: LocalStack;
  world: OfflineWorld;
  config: KaiConfig;
  sessions: SessionClient;
  replicas: Replica[];
  deliveries: Delivery[];
  /** Every engine run so far (in no particular order). */
  runs(): EngineRun[];
  /** Stops one replica (the other takes every delivery meanwhile) and starts it again. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(opts: { adjust?: (c: KaiConfig) => KaiConfig } = {}): Promise<Cluster> {
  const workDir = mkdtempSync(join(tmpdir(), 'kai-e2e-'));
  const runsDir = join(workDir, 'runs');
  mkdirSync(runsDir);
  const enginePath = join(workDir, 'e2e-engine.sh');
  writeFileSync(enginePath, ENGINE);
  chmodSync(enginePath, 0o755);
  let base = demoConfig(defaultConfig(), workDir);
  base = {
    ...base,
    engines: { ...base.engines, script: { ...base.engines.script!, command: `/bin/sh '${enginePath}'`, env: { KAI_E2E_RUNS: runsDir } } },
    // Sessions stay open for the whole file; afterAll ends them.
    limits: { ...base.limits, idle_timeout_s: 600 },
    workspace: { ...base.workspace, cleanup_on_end: false },
  };
  if (opts.adjust) base = opts.adjust(base);
  const logger = quietLogger();
  const stack = await startLocalStack({
    config: base,
    logger,
    offline: true,
    temporalAddress: temporalAddress(),
    workDir,
    taskQueue: uniqueTaskQueue('e2e'),
    workflowBundle: workflowBundle(),
    webhook: false,
  });
  const world = stack.offline!;
  const config = stack.config;
  const sessions = stack.sessions;
  const appUserId = world.linear.state.appUser.id;
  // The same config in both; one is told the app user id, the other asks Linear for it.
  const configs: Record<string, KaiConfig> = {
    configured: { ...config, transports: { ...config.transports, linear: { ...config.transports.linear, app_id: appUserId } } },
    viewer: { ...config, transports: { ...config.transports, linear: { ...config.transports.linear, app_id: undefined } } },
  };
  const start = (name: string) => startWebhookServer(webhookDepsFromConfig(configs[name]!, sessions, { logger }), { host: '127.0.0.1', port: 0 });
  const replicas: Replica[] = [];
  for (const name of Object.keys(configs)) replicas.push({ name, server: await start(name), up: true, restarts: 0 });

  const deliveries: Delivery[] = [];
  const turn = new Map<string, number>();
  const path = config.transports.linear.webhook_path;
  const balancer: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const event = String(req.headers['linear-event'] ?? '');
      const body = JSON.parse(raw.toString('utf8')) as { data?: { userId?: string } };
      const fromApp = event === 'Comment' && body.data?.userId === appUserId;
      // Each kind of delivery alternates between the replicas that are up, so kai's own echoes,
      // users' comments and session events all reach both.
      const kind = `${event}:${fromApp}`;
      const live = replicas.filter((r) => r.up);
      const n = turn.get(kind) ?? 0;
      turn.set(kind, n + 1);
      const replica = live[n % live.length]!;
      try {
        const forwarded = await fetch(`${replica.server.url.replace(/\/$/, '')}${path}`, {
          method: 'POST',
          headers: Object.fromEntries(
            ['content-type', 'user-agent', 'linear-delivery', 'linear-event', 'linear-signature'].map((h) => [h, String(req.headers[h] ?? '')]),
          ),
          body: raw,
        });
        const text = await forwarded.text();
        let outcome: string | undefined;
        try {
          outcome = (JSON.parse(text) as { outcome?: string }).outcome;
        } catch {
          outcome = undefined;
        }
        deliveries.push({ replica: replica.name, event, fromApp, status: forwarded.status, outcome });
        res.writeHead(forwarded.status, { 'Content-Type': forwarded.headers.get('content-type') ?? 'text/plain' }).end(text);
      } catch (err) {
        deliveries.push({ replica: replica.name, event, fromApp, status: 502 });
        res.writeHead(502).end(String(err));
      }
    });
  });
  await new Promise<void>((r) => balancer.listen(0, '127.0.0.1', () => r()));
  world.linear.setWebhookUrl(`http://127.0.0.1:${(balancer.address() as AddressInfo).port}${path}`);

  return {
    stack,
    world,
    config,
    sessions,
    replicas,
    deliveries,
    runs: () =>
      readdirSync(runsDir)
        .map((f) => readFileSync(join(runsDir, f), 'utf8'))
        .map((text) => {
          const [agentSessionId = '', cwd = '', ...prompt] = text.split('\n');
          return { agentSessionId, cwd, prompt: prompt.join('\n') };
        }),
    async restart(name) {
      const replica = replicas.find((r) => r.name === name)!;
      replica.up = false;
      await replica.server.close();
      replica.server = await start(name);
      replica.restarts += 1;
      replica.up = true;
    },
    async stop() {
      await new Promise<void>((r) => {
        balancer.closeAllConnections();
        balancer.close(() => r());
      });
      for (const r of replicas) await r.server.close().catch(() => undefined);
      await stack.stop();
    },
  };
}
