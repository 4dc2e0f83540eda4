// What `kai demo` shows: the Linear side of one session read back from the emulators (activities
// in order, plan updates and issue state changes from the request log, the PR in the GitHub
// emulator), the checks that say whether the whole lifecycle happened, and the transcript.
import type { GitHubEmulator } from '../emulator/github';
import type { LinearEmulator, RecordedRequest } from '../emulator/linear';

export interface DemoActivity {
  type: string;
  ephemeral: boolean;
  body: string;
}

export interface PlanItem {
  content: string;
  status: string;
}

export interface StateTransition {
  from: string;
  to: string;
  at: string;
}

export interface DemoPullRequest {
  url: string;
  number: number;
  title: string;
  state: string;
  branch: string;
  /** Attached to the Linear issue. */
  linked: boolean;
}

export interface DemoReport {
  ok: boolean;
  /** The checks that failed, by name (empty when ok). */
  missing: string[];
  issue: { id: string; identifier: string; title: string; url: string; state: string };
  agentSessionId: string;
  activities: DemoActivity[];
  plan: PlanItem[];
  externalUrls: Array<{ label: string; url: string }>;
  stateTransitions: StateTransition[];
  pullRequest: DemoPullRequest | null;
  ackLatencyMs: number | null;
  linearRequests: number;
  historyEvents: number;
  workflowId: string;
  webUiUrl: string | null;
}

/** One line of the transcript, in the order things reached Linear. */
export type TimelineEntry =
  | { at: number; kind: 'activity'; activity: DemoActivity & { replaced: boolean; fromUser: boolean } }
  | { at: number; kind: 'plan'; plan: PlanItem[] }
  | { at: number; kind: 'state'; from: string; to: string };

export interface LinearSide {
  activities: Array<DemoActivity & { replaced: boolean; fromUser: boolean; at: number }>;
  timeline: TimelineEntry[];
  plan: PlanItem[];
  externalUrls: Array<{ label: string; url: string }>;
  stateTransitions: StateTransition[];
  issue: DemoReport['issue'];
  issueStateType: string;
  attachments: string[];
  linearRequests: number;
}

const ok = (r: RecordedRequest) => r.status === 200 && r.outcome === 'ok';
const input = (r: RecordedRequest) => (r.variables?.input ?? {}) as Record<string, unknown>;

function activityBody(content: Record<string, unknown>): string {
  if (content.type === 'action') {
    const base = `${String(content.action ?? '')} ${String(content.parameter ?? '')}`.trim();
    return content.result ? `${base} → ${String(content.result)}` : base;
  }
  return typeof content.body === 'string' ? content.body : '';
}

/** Reads the session and its issue back from the Linear emulator. */
export function readLinearSide(linear: LinearEmulator, issueId: string, agentSessionId: string, initialState: string): LinearSide {
  const store = linear.state;
  const requests = linear.requests();
  const activities = (store.sessionActivities.get(agentSessionId) ?? []).map((id) => {
    const a = store.activities.get(id)!;
    return {
      type: a.content.type,
      ephemeral: a.ephemeral,
      body: activityBody(a.content),
      replaced: a.replaced,
      fromUser: a.userId !== store.appUser.id,
      at: Date.parse(a.createdAt),
    };
  });

  const stateNames = new Map([...store.states.values()].map((s) => [s.id, s.name]));
  const stateTransitions: StateTransition[] = [];
  const timeline: TimelineEntry[] = activities.map((a) => ({ at: a.at, kind: 'activity' as const, activity: a }));
  let current = initialState;
  for (const r of requests) {
    if (!ok(r)) continue;
    const at = r.atMs + r.durationMs;
    const stateId = input(r).stateId;
    if (r.rootFields.includes('issueUpdate') && r.variables?.id === issueId && typeof stateId === 'string') {
      const to = stateNames.get(stateId) ?? stateId;
      if (to === current) continue;
      stateTransitions.push({ from: current, to, at: new Date(at).toISOString() });
      timeline.push({ at, kind: 'state', from: current, to });
      current = to;
    }
    if (r.rootFields.includes('agentSessionUpdate') && r.variables?.id === agentSessionId && Array.isArray(input(r).plan)) {
      timeline.push({ at, kind: 'plan', plan: (input(r).plan as PlanItem[]).map((p) => ({ content: p.content, status: p.status })) });
    }
  }
  // Stable sort: equal times keep the order they were recorded in.
  timeline.sort((a, b) => a.at - b.at);

  const session = store.sessions.get(agentSessionId);
  const issue = store.issues.get(issueId);
  const state = issue ? store.states.get(issue.stateId) : undefined;
  return {
    activities,
    timeline,
    plan: (session?.plan ?? []).map((p) => ({ content: p.content, status: p.status })),
    externalUrls: (session?.externalUrls ?? []).map((u) => ({ label: u.label, url: u.url })),
    stateTransitions,
    issue: {
      id: issueId,
      identifier: issue?.identifier ?? '',
      title: issue?.title ?? '',
      url: issue ? store.issueUrl(issue) : '',
      state: state?.name ?? '',
    },
    issueStateType: state?.type ?? '',
    attachments: [...store.attachments.values()].filter((a) => a.issueId === issueId).map((a) => a.url),
    linearRequests: requests.length,
  };
}

/** Every pull request in the GitHub emulator's repository. */
export function pullRequestsOf(github: GitHubEmulator, repository: string) {
  return github.state.repos[repository.toLowerCase()]?.pulls ?? [];
}

/** Milliseconds from the delivery leaving the emulator to the acknowledgement being stored. */
export function ackLatency(linear: LinearEmulator, deliveryId: string, agentSessionId: string): number | null {
  const sentAt = linear.webhooks.deliveries.get(deliveryId)?.attempts[0]?.at;
  if (!sentAt) return null;
  const ack = linear
    .requests()
    .find(
      (r) =>
        ok(r) &&
        r.rootFields.includes('agentActivityCreate') &&
        input(r).agentSessionId === agentSessionId &&
        (input(r).content as { type?: string } | undefined)?.type === 'thought',
    );
  if (!ack) return null;
  return Math.max(0, ack.atMs + ack.durationMs - Date.parse(sentAt));
}

export interface LifecycleFacts {
  side: LinearSide;
  prompts: number;
  pullRequests: Array<{ html_url: string }>;
  workflowStatus: string;
  ackLatencyMs: number | null;
  /** A Temporal Web UI is known (the dev server's, or [temporal] web_ui_url): the session links it. */
  webUi: boolean;
}

/** The steps of a whole session, each with what must be true; returns the names that are not. */
export function missingSteps(f: LifecycleFacts): string[] {
  const mine = f.side.activities.filter((a) => !a.fromUser);
  const first = f.side.activities.findIndex((a) => a.fromUser);
  const afterFirstPrompt = mine.length && first >= 0 ? f.side.activities.slice(first + 1).find((a) => !a.fromUser) : undefined;
  const finals = mine.filter((a) => a.type === 'response');
  const pr = f.pullRequests[0]?.html_url;
  const checks: Array<[string, boolean]> = [
    ['the acknowledgement (a thought right after the delegation)', afterFirstPrompt?.type === 'thought' && f.ackLatencyMs !== null],
    ['plan updates (a plan posted, all of it completed at the end)', f.side.timeline.some((t) => t.kind === 'plan') && f.side.plan.length > 0 && f.side.plan.every((p) => p.status === 'completed')],
    ['the engine’s actions', mine.some((a) => a.type === 'action')],
    [`one final response per prompt (${f.prompts} expected, ${finals.length} posted)`, finals.length === f.prompts],
    ['no error responses', !mine.some((a) => a.type === 'error')],
    ['the /help reply', finals.some((a) => a.body.includes('kai commands'))],
    ['the issue moved to a started state', f.side.stateTransitions.length > 0],
    ['the issue moved to done or in review', f.side.issueStateType === 'completed' || /review/i.test(f.side.issue.state)],
    [`one pull request opened in the GitHub emulator (${f.pullRequests.length} found)`, f.pullRequests.length === 1],
    ['the pull request linked on the issue and in the session', !!pr && f.side.attachments.includes(pr) && f.side.externalUrls.some((u) => u.url === pr)],
    // Without a Web UI there is nothing to link (an external server without web_ui_url).
    ['the Temporal run linked in the session', f.side.externalUrls.some((u) => /\/workflows\//.test(u.url)) === f.webUi],
    [`the workflow completed (${f.workflowStatus})`, f.workflowStatus === 'COMPLETED'],
  ];
  return checks.filter(([, pass]) => !pass).map(([name]) => name);
}

// ---------------------------------------------------------------------- transcript
const STATUS_MARK: Record<string, string> = { completed: '[x]', inProgress: '[~]', pending: '[ ]', canceled: '[-]' };

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l, i) => (i === 0 ? l : `${pad}${l}`))
    .join('\n');
}

export function renderTranscript(report: DemoReport, side: LinearSide): string {
  const out: string[] = [];
  const pad = ' '.repeat(14);
  out.push(`Issue ${report.issue.identifier} "${report.issue.title}", delegated to kai (agent session ${report.agentSessionId}).`);
  out.push('');
  out.push('What Linear shows, in order:');
  for (const t of side.timeline) {
    if (t.kind === 'activity') {
      const a = t.activity;
      const who = a.fromUser ? 'you' : a.type;
      const note = a.ephemeral ? (a.replaced ? ' (ephemeral, since replaced)' : ' (ephemeral)') : '';
      const body = a.fromUser && !a.body ? '(delegated the issue to kai)' : a.body;
      out.push(`  ${`[${who}]`.padEnd(12)}${indent(body, pad)}${note}`);
    } else if (t.kind === 'plan') {
      out.push(`  ${'[plan]'.padEnd(12)}${t.plan.map((p) => `${STATUS_MARK[p.status] ?? p.status} ${p.content}`).join(' | ')}`);
    } else {
      out.push(`  ${'[issue]'.padEnd(12)}${t.from} -> ${t.to}`);
    }
  }
  out.push('');
  out.push(`Issue state:      ${[report.stateTransitions[0]?.from ?? report.issue.state, ...report.stateTransitions.map((s) => s.to)].join(' -> ')}`);
  out.push(`Pull request:     ${report.pullRequest ? `${report.pullRequest.url} (#${report.pullRequest.number}, branch ${report.pullRequest.branch}${report.pullRequest.linked ? ', linked on the issue' : ''})` : 'none'}`);
  out.push(`Temporal Web UI:  ${report.webUiUrl ?? 'none'}`);
  out.push(
    `Figures:          acknowledged ${report.ackLatencyMs ?? '?'} ms after the webhook was sent; ${report.linearRequests} Linear API requests; ${report.historyEvents} workflow history events`,
  );
  out.push('');
  out.push(report.ok ? 'The whole lifecycle happened.' : `Missing: ${report.missing.join('; ')}.`);
  return out.join('\n');
}
