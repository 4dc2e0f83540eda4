// The one place ingress is wired: route + dispatch, with kai's app user id known before the
// first event. The webhook server and the ingester are thin adapters around `Ingress.handle`
// (and may share one Ingress when they run in one process).
import type { Logger } from 'pino';
import type { KaiConfig } from '../config/schema';
import { kaiMetrics, type DeliverySource, type KaiMetrics } from '../observability/metrics';
import { DEFAULT_ATTACHMENT_HOSTS } from './attachments';
import { IngressDispatcher, type DispatchResult, type IssueStateLookup, type SessionSink } from './dispatch';
import { linearIdentity } from './linear-identity';
import type { LinearEvent } from './payloads';
import { routeLinearEvent, type RouteDecision } from './route';

export interface IngressOptions {
  sessions: SessionSink;
  logger: Logger;
  metrics?: KaiMetrics;
  /** kai's app user id, or how to learn it once at start-up (see linear-identity.ts). */
  appUserId?: string | (() => Promise<string | undefined>);
  commentFollowupsEnabled?: boolean;
  attachmentHosts?: readonly string[];
  /** Longest wait for Temporal before giving up (default 4 s; Linear allows 5 s). */
  signalTimeoutMs?: number;
  issueState?: IssueStateLookup;
}

export interface Handled {
  decision: RouteDecision;
  result: DispatchResult;
}

export class Ingress {
  readonly dispatcher: IngressDispatcher;
  readonly metrics: KaiMetrics;
  private appUser?: string;
  private starting?: Promise<void>;

  constructor(private readonly opts: IngressOptions) {
    this.metrics = opts.metrics ?? kaiMetrics();
    this.dispatcher = new IngressDispatcher({
      sessions: opts.sessions,
      logger: opts.logger,
      signalTimeoutMs: opts.signalTimeoutMs,
      metrics: this.metrics,
      issueState: opts.issueState,
    });
    if (typeof opts.appUserId === 'string') this.appUser = opts.appUserId;
  }

  /** Learns the app user id (once); servers await it before they listen. */
  start(): Promise<void> {
    const resolve = this.opts.appUserId;
    this.starting ??= typeof resolve === 'function' ? resolve().then((id) => void (this.appUser = id)) : Promise.resolve();
    return this.starting;
  }

  get appUserId(): string | undefined {
    return this.appUser;
  }

  /** Routes and dispatches one verified event; throws when Temporal did not take the signal. */
  async handle(event: LinearEvent, meta: { source: DeliverySource; receivedAt: Date }): Promise<Handled> {
    await this.start();
    const decision = routeLinearEvent(event, {
      receivedAt: meta.receivedAt.toISOString(),
      appUserId: this.appUser,
      commentFollowupsEnabled: this.opts.commentFollowupsEnabled ?? true,
      attachmentHosts: this.opts.attachmentHosts ?? DEFAULT_ATTACHMENT_HOSTS,
    });
    const result = await this.dispatcher.dispatch(decision, { source: meta.source, receivedAt: meta.receivedAt.getTime() });
    return { decision, result };
  }
}

export function createIngress(opts: IngressOptions): Ingress {
  return new Ingress(opts);
}

/** Ingress options from kai's config: follow-ups, attachment hosts, and Linear lookups (app
 *  user id from `app_id` / LINEAR_APP_ID or the viewer query; issue status) for this process. */
export function ingressOptionsFromConfig(config: KaiConfig, logger: Logger): Pick<IngressOptions, 'appUserId' | 'commentFollowupsEnabled' | 'attachmentHosts' | 'issueState'> {
  const identity = linearIdentity(config, logger);
  return {
    appUserId: identity.appUserId,
    issueState: identity.issueState,
    commentFollowupsEnabled: config.plugins.linear.comment_followups_enabled,
    attachmentHosts: config.transports.linear.attachment_allowed_hosts,
  };
}
