// The git worktree a session works in, and what publishing it produced.

export interface Workspace {
  repoPath: string;
  worktreePath: string;
  branch: string;
  baseBranch?: string;
  /** The worker whose disk holds this worktree (set by the worker that prepared it). */
  holder?: WorkspaceHolder;
}

/** A worker that holds workspaces, and its own task queues. */
export interface WorkspaceHolder {
  worker: string;
  taskQueue: string;
  engineTaskQueue: string;
}

export interface WorkspaceState {
  uncommittedFiles: number;
  unpushedCommits: number;
}

export interface PullRequestRef {
  url: string;
  number: number;
  title: string;
  /** False when an open PR for the branch was updated instead. */
  created: boolean;
}

/** Commit and push, the first half of publishing. */
export interface CommitPushResult {
  changed: boolean;
  commitSha?: string;
  pushed: boolean;
  branch: string;
}

/** What publishing a turn produced, as the response reports it. */
export interface PublishResult {
  changed: boolean;
  commitSha?: string;
  pullRequest?: PullRequestRef;
}
