// What `GET /_emulator/state` shows: the workspace as a user of Linear would see it
// (sessions with their visible activities in order, plan, links; issues with state, labels,
// attachments), in plain JSON for tests, the demo and benchmarks.
import type { LinearStore, PlanItemRec, ExternalUrlRec, ActivityContent } from './store';

export interface SnapshotActivity {
  id: string;
  type: string;
  content: ActivityContent;
  ephemeral: boolean;
  signal?: string;
  createdAt: string;
}

export interface SnapshotSession {
  id: string;
  issueId?: string;
  issueIdentifier?: string;
  status: string;
  plan?: PlanItemRec[];
  externalUrls: ExternalUrlRec[];
  summary?: string;
  activities: SnapshotActivity[];
  /** Ephemeral activities that a later one replaced, oldest first. */
  replacedActivities: SnapshotActivity[];
}

export interface SnapshotIssue {
  id: string;
  identifier: string;
  title: string;
  description?: string;
  teamKey: string;
  state: { id: string; name: string; type: string };
  priority: number;
  estimate?: number;
  parentId?: string;
  projectId?: string;
  cycleId?: string;
  labels: string[];
  attachments: Array<{ id: string; title: string; url: string; sourceType?: string }>;
  delegateId?: string;
}

export interface EmulatorSnapshot {
  organization: { id: string; name: string; urlKey: string };
  viewer: { id: string; name: string; app: boolean };
  teams: Array<{ id: string; key: string; name: string; states: Array<{ id: string; name: string; type: string; position: number }> }>;
  projects: Array<{ id: string; name: string }>;
  cycles: Array<{ id: string; teamId: string; number: number }>;
  labels: Array<{ id: string; name: string; teamId?: string }>;
  issues: SnapshotIssue[];
  comments: Array<{ id: string; issueId: string; body: string; userId?: string; parentId?: string }>;
  sessions: SnapshotSession[];
  uploads: Array<{ id: string; filename: string; contentType: string; size: number; uploaded: boolean; assetUrl: string }>;
}

export function emulatorSnapshot(store: LinearStore): EmulatorSnapshot {
  const activity = (id: string): SnapshotActivity => {
    const a = store.activities.get(id)!;
    return { id: a.id, type: a.content.type, content: a.content, ephemeral: a.ephemeral, signal: a.signal, createdAt: a.createdAt };
  };
  return {
    organization: { id: store.organization.id, name: store.organization.name, urlKey: store.organization.urlKey },
    viewer: { id: store.appUser.id, name: store.appUser.name, app: true },
    teams: [...store.teams.values()].map((t) => ({
      id: t.id,
      key: t.key,
      name: t.name,
      states: store.teamStates(t.id).map((s) => ({ id: s.id, name: s.name, type: s.type, position: s.position })),
    })),
    projects: [...store.projects.values()].map((p) => ({ id: p.id, name: p.name })),
    cycles: [...store.cycles.values()].map((c) => ({ id: c.id, teamId: c.teamId, number: c.number })),
    labels: [...store.labels.values()].map((l) => ({ id: l.id, name: l.name, teamId: l.teamId })),
    issues: [...store.issues.values()].map((i) => {
      const state = store.states.get(i.stateId);
      return {
        id: i.id,
        identifier: i.identifier,
        title: i.title,
        description: i.description,
        teamKey: store.teams.get(i.teamId)?.key ?? '',
        state: { id: i.stateId, name: state?.name ?? '', type: state?.type ?? '' },
        priority: i.priority,
        estimate: i.estimate,
        parentId: i.parentId,
        projectId: i.projectId,
        cycleId: i.cycleId,
        labels: i.labelIds.map((id) => store.labels.get(id)?.name ?? id),
        attachments: [...store.attachments.values()]
          .filter((a) => a.issueId === i.id)
          .map((a) => ({ id: a.id, title: a.title, url: a.url, sourceType: a.sourceType })),
        delegateId: i.delegateId,
      };
    }),
    comments: [...store.comments.values()].map((c) => ({ id: c.id, issueId: c.issueId, body: c.body, userId: c.userId, parentId: c.parentId })),
    sessions: [...store.sessions.values()].map((s) => {
      const ids = store.sessionActivities.get(s.id) ?? [];
      return {
        id: s.id,
        issueId: s.issueId,
        issueIdentifier: s.issueId ? store.issues.get(s.issueId)?.identifier : undefined,
        status: store.sessionStatus(s.id),
        plan: s.plan,
        externalUrls: s.externalUrls,
        summary: s.summary,
        activities: ids.filter((id) => !store.activities.get(id)!.replaced).map(activity),
        replacedActivities: ids.filter((id) => store.activities.get(id)!.replaced).map(activity),
      };
    }),
    uploads: [...store.uploads.values()].map((u) => ({
      id: u.id,
      filename: u.filename,
      contentType: u.contentType,
      size: u.size,
      uploaded: Boolean(u.data),
      assetUrl: u.assetUrl,
    })),
  };
}
