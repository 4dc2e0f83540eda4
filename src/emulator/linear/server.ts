// The loopback Linear emulator: `POST /graphql` answered from the in-memory workspace, upload
// and asset URLs for `fileUpload`, webhooks sent like Linear's, and `/_emulator/*` endpoints
// for tests and the demo to inspect state, read the request log, seed data and inject faults.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { GraphQLError, execute, parse, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { linearEmulatorSchema } from './schema';
import { createRoot } from './resolvers';
import { LinearStore, LinearUserError, sessionMarker, type ActivityRec, type CommentRec, type SessionRec } from './store';
import { FaultPlan, type LatencyFault, type RateLimitConfig, type StatusFault } from './faults';
import { WebhookSender, type AppUserNotificationType, type DeliveryResult, type WebhookPayload } from './webhooks';
import { seedStandardWorkspace, type SeedOptions, type StandardWorkspace } from './seed';
import { emulatorSnapshot, type EmulatorSnapshot } from './snapshot';
import { errorText, sleep } from '../../util';

/** The webhook categories a Linear app can subscribe to that the emulator sends. */
export type WebhookCategory = 'AgentSessionEvent' | 'Comment' | 'Issue' | 'AppUserNotification';
export const ALL_WEBHOOK_CATEGORIES: readonly WebhookCategory[] = ['AgentSessionEvent', 'Comment', 'Issue', 'AppUserNotification'];

/** How a user's message in a session thread reaches the agent: Linear sends a `Comment` and an
 *  `AgentSessionEvent` webhook for it, in either order, sometimes seconds apart. */
export interface UserMessageDelivery {
  order: 'session-first' | 'comment-first';
  /** Pause between the two deliveries (Linear: 0 to about 5 s). */
  gapMs: number;
}

export interface LinearEmulatorOptions {
  port?: number;
  /** Loopback only: the emulator holds no real data but accepts any write. */
  host?: '127.0.0.1' | 'localhost' | '::1';
  /** Signs webhooks; a random one is chosen when absent (read it from `webhookSecret`). */
  webhookSecret?: string;
  /** Where webhooks go by default. */
  webhookUrl?: string;
  /** When set, `/graphql` and asset downloads require `Authorization: Bearer <token>`. */
  accessToken?: string;
  /** How a refused token is answered: HTTP 401 (default), or HTTP 400 with the
   *  `AUTHENTICATION_ERROR` GraphQL error (`userError: true`), as Linear also answers. */
  authFailureStatus?: 400 | 401;
  rateLimit?: RateLimitConfig;
  /** Seed the standard workspace (team ENG, a project, an issue) at start. */
  seed?: boolean | SeedOptions;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Categories enabled in the Linear app (default: all four). Data-change `Issue` webhooks
   *  are sent only when listed, as in Linear. */
  webhookCategories?: readonly WebhookCategory[];
  /** Order and gap of the two webhooks a user message produces (default session-first, 0 ms). */
  userMessage?: Partial<UserMessageDelivery>;
  /** Also send a `Comment` webhook for the thread-root marker Linear writes for a delegated
   *  session (default off: not observed in the sources docs/linear.md cites). */
  markerCommentWebhook?: boolean;
}

export interface RecordedRequest {
  at: string;
  atMs: number;
  operationName: string | null;
  operationType: string | null;
  rootFields: string[];
  variables?: Record<string, unknown>;
  status: number;
  outcome: 'ok' | 'error' | 'ratelimited' | 'fault' | 'unauthorized' | 'invalid';
  errors?: string[];
  durationMs: number;
}

export interface LinearEmulator {
  /** The GraphQL endpoint, for `LinearClient({ apiUrl })`. */
  url: string;
  baseUrl: string;
  port: number;
  webhookSecret: string;
  state: LinearStore;
  webhooks: WebhookSender;
  /** What `seed` created, when it was asked for. */
  workspace?: StandardWorkspace;
  stop(): Promise<void>;
  requests(): RecordedRequest[];
  clearRequests(): void;
  snapshot(): EmulatorSnapshot;
  seed(opts?: SeedOptions): StandardWorkspace;
  injectFaults(fault: StatusFault): void;
  injectLatency(fault: LatencyFault): void;
  setRateLimit(config: RateLimitConfig | undefined): void;
  clearFaults(): void;
  setWebhookUrl(url: string | undefined): void;
  /** Changes the token `/graphql` accepts (a token expiring or being rotated). */
  setAccessToken(token: string | undefined): void;
  sendWebhook(payload: WebhookPayload, opts?: { url?: string; deliveryId?: string }): Promise<DeliveryResult>;
  redeliver(deliveryId: string, opts?: { url?: string; sameBody?: boolean }): Promise<DeliveryResult>;
  /** Creates an agent session on an issue and sends `created`. Without `commentBody` it is a
   *  delegation: the thread root is Linear's marker comment (no author). With `commentBody` it
   *  is a top-level @mention by the user, which is the thread root itself. */
  startSession(input: { issueId: string; commentBody?: string; creatorId?: string; guidance?: string[]; send?: boolean }): Promise<{ session: SessionRec; delivery?: DeliveryResult }>;
  /** An @mention of the app written as a reply in the thread of `parentId` (or top-level without
   *  it): a new session whose `comment` is the thread root and whose `sourceCommentId` is the
   *  mention; sends the mention's `Comment` webhook and the `created` event (user-message order). */
  mention(issueId: string, body: string, opts?: { parentId?: string; userId?: string; guidance?: string[]; delivery?: Partial<UserMessageDelivery> }): Promise<{ session: SessionRec; comment: CommentRec; delivery?: DeliveryResult; commentDelivery?: DeliveryResult }>;
  /** A user message in a session: a reply in the session thread, a prompt activity, and both
   *  the `Comment` and the `prompted` webhooks in the configured order. Stop (`signal: 'stop'`)
   *  comes from Linear's menu and writes no comment. */
  prompt(sessionId: string, body: string, opts?: { signal?: 'stop' | 'continue' | 'auth' | 'select'; signalMetadata?: Record<string, unknown>; userId?: string; send?: boolean; delivery?: Partial<UserMessageDelivery> }): Promise<{ activity: ActivityRec; delivery?: DeliveryResult; comment?: CommentRec; commentDelivery?: DeliveryResult }>;
  /** Sets the order and gap of the two webhooks of a user message (`mention` and `prompt` also
   *  take a `delivery` of their own, for messages sent concurrently). */
  setUserMessageDelivery(delivery: Partial<UserMessageDelivery>): void;
  /** Sets the webhook categories enabled in the app. */
  setWebhookCategories(categories: readonly WebhookCategory[]): void;
  /** Resolves once every webhook sent in the background (kai's echoed comments) was answered. */
  settled(): Promise<void>;
  /** The user pressed Stop. */
  stopSession(sessionId: string): Promise<{ activity: ActivityRec; delivery?: DeliveryResult }>;
  comment(issueId: string, body: string, opts?: { userId?: string; send?: boolean }): Promise<DeliveryResult | undefined>;
  /** Changes an issue as a user would. Sends the `AppUserNotification`s Linear sends the app user
   *  (`issueUnassignedFromYou` when it loses the delegation or assignment, `issueStatusChanged`
   *  when an issue it holds changes state) and, when that category is enabled, the `Issue`
   *  update webhook. Returns the `Issue` delivery if sent, else the first notification's. */
  userUpdatesIssue(issueId: string, changes: { stateName?: string; delegateId?: string | null; assigneeId?: string | null; title?: string }): Promise<DeliveryResult | undefined>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startLinearEmulator(opts: LinearEmulatorOptions = {}): Promise<LinearEmulator> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`The Linear emulator listens on loopback only, not ${host}`);
  const maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const webhookSecret = opts.webhookSecret ?? `emulator-${randomUUID()}`;
  const faults = new FaultPlan(opts.rateLimit);
  const log: RecordedRequest[] = [];
  let webhookUrl = opts.webhookUrl;
  let accessToken = opts.accessToken;
  let categories = new Set<WebhookCategory>(opts.webhookCategories ?? ALL_WEBHOOK_CATEGORIES);
  let userMessage: UserMessageDelivery = { order: 'session-first', gapMs: 0, ...opts.userMessage };
  const background = new Set<Promise<unknown>>();
  /** Comments whose webhook the caller sends itself (user messages, in their configured order). */
  const sentByCaller = new Set<string>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: errorText(err) });
      else res.end();
    });
  });
  // Keep-alive sockets would hold `stop()` open; tests start and stop emulators constantly.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${host === '::1' ? '[::1]' : host}:${port}`;
  const store = new LinearStore(baseUrl);
  const root = createRoot(store);
  const webhooks = new WebhookSender(store, webhookSecret);
  // Linear sends a Comment webhook for every comment, kai's own included (its final activities).
  store.onComment = (comment) => {
    if (sentByCaller.delete(comment.id)) return;
    if (!comment.userId && !opts.markerCommentWebhook) return;
    if (!webhookUrl || !categories.has('Comment')) return;
    const payload = webhooks.commentCreated(comment);
    const sending = webhooks.send(webhookUrl, payload).finally(() => background.delete(sending));
    background.add(sending);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    if (path === '/graphql' && req.method === 'POST') return graphqlEndpoint(req, res);
    if (path.startsWith('/_emulator/uploads/') && req.method === 'PUT') return putUpload(req, res, path.slice('/_emulator/uploads/'.length));
    if (path.startsWith('/_emulator/assets/') && req.method === 'GET') return getAsset(req, res, path.slice('/_emulator/assets/'.length));
    if (path === '/_emulator/requests' && req.method === 'GET') return sendJson(res, 200, { requests: log });
    if (path === '/_emulator/requests' && req.method === 'DELETE') {
      log.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/_emulator/state' && req.method === 'GET') return sendJson(res, 200, emulatorSnapshot(store));
    if (path.startsWith('/_emulator/') && req.method === 'POST') return admin(req, res, path.slice('/_emulator/'.length));
    sendJson(res, 404, { error: `No route for ${req.method} ${path}` });
  }

  function authorized(req: IncomingMessage): boolean {
    if (!accessToken) return typeof req.headers.authorization === 'string' && req.headers.authorization.length > 0;
    const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const want = Buffer.from(accessToken);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  async function graphqlEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const record = (r: Omit<RecordedRequest, 'at' | 'atMs' | 'durationMs'>) =>
      log.push({ ...r, at: new Date(started).toISOString(), atMs: started, durationMs: Date.now() - started });

    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse((await readBody(req, maxBodyBytes)).toString('utf8'));
    } catch {
      record({ operationName: null, operationType: null, rootFields: [], status: 400, outcome: 'invalid', errors: ['body is not JSON'] });
      return sendJson(res, 400, { errors: [graphqlError('Request body must be JSON', 'BAD_REQUEST', 'graphql error')] });
    }
    const query = typeof body.query === 'string' ? body.query : '';
    const variables = body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : undefined;
    let document: DocumentNode | undefined;
    let parseError: string | undefined;
    try {
      document = parse(query);
    } catch (err) {
      parseError = errorText(err);
    }
    const op = document?.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === 'OperationDefinition' && (typeof body.operationName !== 'string' || d.name?.value === body.operationName),
    );
    const meta = {
      operationName: op?.name?.value ?? null,
      operationType: op?.operation ?? null,
      rootFields: op ? op.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.name.value] : [])) : [],
      variables,
    };

    if (!authorized(req)) {
      const status = opts.authFailureStatus ?? 401;
      record({ ...meta, status, outcome: 'unauthorized' });
      return sendJson(res, status, {
        errors: [graphqlError('Authentication required, not authenticated', 'AUTHENTICATION_ERROR', 'authentication error', true)],
      });
    }
    const limit = faults.takeRequest();
    for (const [k, v] of Object.entries(limit.headers)) res.setHeader(k, v);
    res.setHeader('X-Complexity', '10');
    res.setHeader('X-RateLimit-Complexity-Limit', '2000000');
    res.setHeader('X-RateLimit-Complexity-Remaining', '1999990');
    if (!limit.allowed) {
      record({ ...meta, status: 400, outcome: 'ratelimited', errors: ['Rate limit exceeded'] });
      return sendJson(res, 400, {
        errors: [{ ...graphqlError('Rate limit exceeded', 'RATELIMITED', 'ratelimited', false), extensions: { code: 'RATELIMITED', type: 'ratelimited', userError: false, statusCode: 429, userPresentableMessage: 'Rate limit exceeded. Try again later.' } }],
      });
    }
    const delay = faults.takeLatency(meta.rootFields);
    if (delay > 0) await sleep(delay);
    const injected = faults.takeStatus(meta.rootFields);
    const fail = (status: number) => {
      record({ ...meta, status, outcome: 'fault' });
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/html');
      res.end(`<html><body>${status} emulated upstream failure</body></html>`);
    };
    if (injected && !injected.lostResponse) return fail(injected.status);

    if (!document) {
      record({ ...meta, status: 400, outcome: 'invalid', errors: [parseError ?? 'no query'] });
      return sendJson(res, 400, { errors: [graphqlError(parseError ?? 'Must provide query string.', 'GRAPHQL_PARSE_FAILED', 'graphql error')] });
    }
    const schema = linearEmulatorSchema();
    const validation = validate(schema, document);
    if (validation.length) {
      const errors = validation.map((e) => ({ ...graphqlError(e.message, 'GRAPHQL_VALIDATION_FAILED', 'graphql error'), locations: e.locations }));
      record({ ...meta, status: 400, outcome: 'invalid', errors: errors.map((e) => e.message) });
      return sendJson(res, 400, { errors });
    }
    const result = await execute({
      schema,
      document,
      rootValue: root,
      variableValues: variables,
      operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
    });
    if (injected?.lostResponse) return fail(injected.status);
    if (result.errors?.length) {
      const errors = result.errors.map(formatExecutionError);
      const userErrors = errors.every((e) => e.extensions.userError);
      const status = result.errors.some((e) => !e.originalError && !e.path) ? 400 : userErrors ? 200 : 500;
      record({ ...meta, status, outcome: 'error', errors: errors.map((e) => e.message) });
      return sendJson(res, status, { data: result.data ?? null, errors });
    }
    record({ ...meta, status: 200, outcome: 'ok' });
    sendJson(res, 200, { data: result.data });
  }

  async function putUpload(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const upload = store.uploads.get(id);
    if (!upload) return sendJson(res, 404, { error: 'Unknown upload URL' });
    const data = await readBody(req, maxBodyBytes);
    if (data.length !== upload.size)
      return sendJson(res, 400, { error: `Upload is ${data.length} bytes but fileUpload declared ${upload.size}` });
    const type = String(req.headers['content-type'] ?? '');
    if (type !== upload.contentType) return sendJson(res, 400, { error: `Content-Type ${type} does not match the declared ${upload.contentType}` });
    upload.data = data;
    res.statusCode = 200;
    res.end();
  }

  function getAsset(req: IncomingMessage, res: ServerResponse, rest: string): void {
    const id = rest.split('/')[0] ?? '';
    const upload = store.uploads.get(id);
    if (accessToken && !authorized(req)) return sendJson(res, 401, { error: 'Authentication required' });
    if (!upload?.data) return sendJson(res, 404, { error: 'No such asset' });
    res.statusCode = 200;
    res.setHeader('Content-Type', upload.contentType);
    res.setHeader('Content-Length', String(upload.data.length));
    res.end(upload.data);
  }

  async function admin(req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
    const raw = await readBody(req, maxBodyBytes);
    const input = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    try {
      switch (action) {
        case 'seed':
          return sendJson(res, 200, emulator.seed(input as SeedOptions));
        case 'faults':
          emulator.injectFaults(input as unknown as StatusFault);
          return sendJson(res, 200, { ok: true });
        case 'latency':
          emulator.injectLatency(input as unknown as LatencyFault);
          return sendJson(res, 200, { ok: true });
        case 'rate-limit':
          emulator.setRateLimit(input.limit ? (input as unknown as RateLimitConfig) : undefined);
          return sendJson(res, 200, { ok: true });
        case 'clear-faults':
          emulator.clearFaults();
          return sendJson(res, 200, { ok: true });
        case 'sessions': {
          const out = await emulator.startSession(input as { issueId: string; commentBody?: string });
          return sendJson(res, 200, { session: out.session, delivery: out.delivery });
        }
        case 'prompt': {
          const out = await emulator.prompt(String(input.sessionId), String(input.body ?? ''), { signal: input.signal as 'stop' | undefined });
          return sendJson(res, 200, out);
        }
        case 'stop':
          return sendJson(res, 200, await emulator.stopSession(String(input.sessionId)));
        case 'mention':
          return sendJson(res, 200, await emulator.mention(String(input.issueId), String(input.body ?? ''), { parentId: input.parentId as string | undefined }));
        case 'user-message-delivery':
          emulator.setUserMessageDelivery(input as Partial<UserMessageDelivery>);
          return sendJson(res, 200, { ok: true });
        case 'comment':
          return sendJson(res, 200, { delivery: await emulator.comment(String(input.issueId), String(input.body ?? '')) });
        case 'delete-session':
          store.deleteSession(String(input.sessionId));
          return sendJson(res, 200, { ok: true });
        case 'delete-issue':
          store.deleteIssue(String(input.issueId));
          return sendJson(res, 200, { ok: true });
        case 'redeliver':
          return sendJson(res, 200, await emulator.redeliver(String(input.deliveryId), { sameBody: Boolean(input.sameBody) }));
        default:
          return sendJson(res, 404, { error: `Unknown emulator action ${action}` });
      }
    } catch (err) {
      return sendJson(res, 400, { error: errorText(err) });
    }
  }

  const target = (url?: string) => {
    const to = url ?? webhookUrl;
    if (!to) throw new Error('No webhook URL: pass webhookUrl to startLinearEmulator or setWebhookUrl()');
    return to;
  };

  const emulator: LinearEmulator = {
    url: `${baseUrl}/graphql`,
    baseUrl,
    port,
    webhookSecret,
    state: store,
    webhooks,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    requests: () => log.map((r) => ({ ...r })),
    clearRequests: () => void (log.length = 0),
    snapshot: () => emulatorSnapshot(store),
    seed(seedOpts) {
      const ws = seedStandardWorkspace(store, seedOpts);
      emulator.workspace ??= ws;
      return ws;
    },
    injectFaults: (f) => faults.injectStatus(f),
    injectLatency: (f) => faults.injectLatency(f),
    setRateLimit: (c) => faults.setRateLimit(c),
    clearFaults: () => faults.clear(),
    setWebhookUrl: (u) => void (webhookUrl = u),
    setAccessToken: (t) => void (accessToken = t),
    sendWebhook: (payload, o = {}) => webhooks.send(target(o.url), payload, { deliveryId: o.deliveryId }),
    redeliver: (deliveryId, o = {}) => webhooks.redeliver(target(o.url), deliveryId, { sameBody: o.sameBody }),
    async startSession(input) {
      const issue = store.issue(input.issueId);
      const creatorId = input.creatorId ?? humanId();
      const mentionId = randomUUID();
      if (input.commentBody) sentByCaller.add(mentionId);
      const comment = input.commentBody
        ? store.addComment({ id: mentionId, issueId: issue.id, body: input.commentBody, userId: creatorId })
        : store.addComment({ issueId: issue.id, body: sessionMarker(store.appUser.name), userId: null });
      const session = store.addSession({ issueId: issue.id, commentId: comment.id, creatorId });
      if (input.send === false || (!webhookUrl && input.send !== true)) return { session };
      const created = webhooks.agentSessionCreated(session, { guidance: input.guidance });
      if (!input.commentBody) return { session, delivery: await sendIf('AgentSessionEvent', created) };
      // A top-level @mention is a user message: its Comment webhook comes too.
      return { session, delivery: (await sendPair(webhooks.commentCreated(comment), created)).session };
    },
    async mention(issueId, body, o = {}) {
      const issue = store.issue(issueId);
      const userId = o.userId ?? humanId();
      const id = randomUUID();
      sentByCaller.add(id);
      const comment = store.addComment({ id, issueId: issue.id, body, userId, parentId: o.parentId });
      const root = comment.parentId ? store.threadRoot(comment.id) : comment;
      const session = store.addSession({ issueId: issue.id, commentId: root.id, sourceCommentId: comment.id, creatorId: userId });
      if (!webhookUrl) return { session, comment };
      const pair = await sendPair(webhooks.commentCreated(comment), webhooks.agentSessionCreated(session, { guidance: o.guidance }), o.delivery);
      return { session, comment, delivery: pair.session, commentDelivery: pair.comment };
    },
    async prompt(sessionId, body, o = {}) {
      const session = store.get(store.sessions, sessionId, 'AgentSession');
      const userId = o.userId ?? session.creatorId ?? humanId() ?? store.appUser.id;
      // A message is a reply in the session thread; Stop comes from a menu and writes none.
      let comment: CommentRec | undefined;
      if (o.signal !== 'stop' && session.issueId && store.issues.has(session.issueId)) {
        const id = randomUUID();
        sentByCaller.add(id);
        comment = store.addComment({ id, issueId: session.issueId, body, userId, parentId: session.commentId });
      }
      const activity = store.createActivity({
        agentSessionId: session.id,
        content: { type: 'prompt', body },
        signal: o.signal,
        signalMetadata: o.signalMetadata,
        userId,
        sourceCommentId: comment?.id,
      });
      if (o.send === false || (!webhookUrl && o.send !== true)) return { activity, comment };
      const prompted = webhooks.agentSessionPrompted(session, activity);
      if (!comment) return { activity, delivery: await sendIf('AgentSessionEvent', prompted) };
      const pair = await sendPair(webhooks.commentCreated(comment), prompted, o.delivery);
      return { activity, comment, delivery: pair.session, commentDelivery: pair.comment };
    },
    stopSession: (sessionId) => emulator.prompt(sessionId, 'Stop', { signal: 'stop' }),
    setUserMessageDelivery: (d) => void (userMessage = { ...userMessage, ...d }),
    setWebhookCategories: (c) => void (categories = new Set(c)),
    async settled() {
      while (background.size) await Promise.allSettled([...background]);
    },
    async comment(issueId, body, o = {}) {
      const issue = store.issue(issueId);
      const userId = o.userId ?? humanId() ?? store.appUser.id;
      const id = randomUUID();
      sentByCaller.add(id);
      const comment = store.addComment({ id, issueId: issue.id, body, userId });
      if (o.send === false || (!webhookUrl && o.send !== true)) return undefined;
      return sendIf('Comment', webhooks.commentCreated(comment));
    },
    async userUpdatesIssue(issueId, changes) {
      const issue = store.issue(issueId);
      const app = store.appUser.id;
      const held = () => issue.delegateId === app || issue.assigneeId === app;
      const heldBefore = held();
      const updatedFrom: Record<string, unknown> = { updatedAt: issue.updatedAt };
      const notes: AppUserNotificationType[] = [];
      if (changes.stateName) {
        const state = store.teamStates(issue.teamId).find((s) => s.name.toLowerCase() === changes.stateName!.toLowerCase());
        if (!state) throw new LinearUserError(`No state named ${changes.stateName} in the issue's team`);
        updatedFrom.stateId = issue.stateId;
        if (state.id !== issue.stateId && heldBefore) notes.push('issueStatusChanged');
        store.updateIssue(issue.id, { stateId: state.id });
      }
      if (changes.delegateId !== undefined) {
        updatedFrom.delegateId = issue.delegateId ?? null;
        issue.delegateId = changes.delegateId ?? undefined;
      }
      if (changes.assigneeId !== undefined) {
        updatedFrom.assigneeId = issue.assigneeId ?? null;
        issue.assigneeId = changes.assigneeId ?? undefined;
      }
      if (heldBefore && !held()) notes.push('issueUnassignedFromYou');
      if (!heldBefore && held()) notes.push('issueAssignedToYou');
      if (changes.title !== undefined) {
        updatedFrom.title = issue.title;
        issue.title = changes.title;
      }
      issue.updatedAt = new Date().toISOString();
      if (!webhookUrl) return undefined;
      const actor = store.users.get(humanId() ?? '');
      const sent: Array<DeliveryResult | undefined> = [];
      for (const note of notes) sent.push(await sendIf('AppUserNotification', webhooks.appUserNotification(note, issue, actor)));
      const issueDelivery = await sendIf('Issue', webhooks.issueUpdated(issue, updatedFrom));
      return issueDelivery ?? sent.find((d) => d);
    },
  };

  function humanId(): string | undefined {
    return [...store.users.values()].find((u) => !u.app)?.id;
  }

  /** Sends a payload if its category is enabled in the app; undefined when it is not. */
  async function sendIf(category: WebhookCategory, payload: WebhookPayload): Promise<DeliveryResult | undefined> {
    if (!categories.has(category)) return undefined;
    return emulator.sendWebhook(payload);
  }

  /** The two webhooks of one user message, in the configured order and gap. */
  async function sendPair(
    comment: WebhookPayload,
    session: WebhookPayload,
    delivery: Partial<UserMessageDelivery> = {},
  ): Promise<{ comment?: DeliveryResult; session?: DeliveryResult }> {
    const { order, gapMs } = { ...userMessage, ...delivery };
    const gap = () => (gapMs > 0 ? sleep(gapMs) : Promise.resolve());
    if (order === 'comment-first') {
      const c = await sendIf('Comment', comment);
      await gap();
      return { comment: c, session: await sendIf('AgentSessionEvent', session) };
    }
    const a = await sendIf('AgentSessionEvent', session);
    await gap();
    return { session: a, comment: await sendIf('Comment', comment) };
  }
  if (opts.seed) emulator.workspace = seedStandardWorkspace(store, opts.seed === true ? {} : opts.seed);
  return emulator;
}

function graphqlError(message: string, code: string, type: string, userError = false) {
  return { message, extensions: { code, type, userError, userPresentableMessage: message } };
}

function formatExecutionError(err: GraphQLError) {
  const original = err.originalError;
  if (original instanceof LinearUserError) {
    return {
      message: original.message,
      path: err.path,
      locations: err.locations,
      extensions: { code: 'INPUT_ERROR', type: 'invalid input', userError: true, statusCode: 400, userPresentableMessage: original.userPresentableMessage },
    };
  }
  if (!original) {
    // Variable coercion failures and the like: the document was wrong, as Linear reports it.
    return { message: err.message, path: err.path, locations: err.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', type: 'graphql error', userError: true } };
  }
  return { message: err.message, path: err.path, locations: err.locations, extensions: { code: 'INTERNAL_SERVER_ERROR', type: 'internal error', userError: false } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(text)));
  res.end(text);
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new Error(`Request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
