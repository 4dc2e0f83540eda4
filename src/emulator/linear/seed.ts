// The standard workspace tests and the demo start from: team ENG with Linear's default
// workflow states, a project, a current cycle, a human user and one issue in the backlog.
import type { LinearStore, IssueRec, ProjectRec, TeamRec, UserRec, CycleRec } from './store';

export interface StandardWorkspace {
  team: TeamRec;
  project: ProjectRec;
  cycle: CycleRec;
  user: UserRec;
  issue: IssueRec;
}

export interface SeedOptions {
  issueTitle?: string;
  issueDescription?: string;
  /** Fixed ids make demo runs reproducible; tests let them be random. */
  ids?: { team?: string; project?: string; issue?: string; user?: string };
}

export function seedStandardWorkspace(store: LinearStore, opts: SeedOptions = {}): StandardWorkspace {
  const team = store.addTeam({ key: 'ENG', name: 'Engineering', id: opts.ids?.team });
  const project = store.addProject({ name: 'kai demo', teamIds: [team.id], id: opts.ids?.project, description: 'Work delegated to kai.' });
  const cycle = store.addCycle({ teamId: team.id, number: 1, name: 'Cycle 1' });
  const user = store.addUser({ name: 'Ada Lovelace', id: opts.ids?.user });
  const issue = store.addIssue({
    teamId: team.id,
    id: opts.ids?.issue,
    title: opts.issueTitle ?? 'Add a greeting to the README',
    description: opts.issueDescription ?? 'The README should open with a one-line greeting.',
    stateType: 'backlog',
    priority: 3,
    projectId: project.id,
    cycleId: cycle.id,
    creatorId: user.id,
    delegateId: store.appUser.id,
  });
  return { team, project, cycle, user, issue };
}
