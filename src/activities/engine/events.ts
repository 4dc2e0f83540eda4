// kai's normalized engine events: every engine's JSONL stream is parsed into these, and the
// Linear progress reporter turns them into Agent Activities and the session plan.

export type EngineEvent =
  | { type: 'started'; resumeToken?: string }
  | {
      type: 'action';
      /** Stable per action within a run: started/updated/completed of one tool call share it. */
      id: string;
      /** tool | command | file_change | web_search | mcp | other */
      kind: string;
      title: string;
      detail?: string;
      phase: 'started' | 'updated' | 'completed';
      ok?: boolean;
    }
  | { type: 'thought'; text: string }
  | { type: 'plan'; items: Array<{ content: string; status: 'pending' | 'inProgress' | 'completed' | 'canceled' }> }
  | {
      type: 'completed';
      ok: boolean;
      answer: string;
      resumeToken?: string;
      usage?: Record<string, unknown>;
      error?: string;
      /** What the engine was denied or could not do although the run finished (not a clean success). */
      limitations?: string[];
    };

/** Where an engine run sends its progress. One per run; `close()` flushes what is pending,
 *  unless the run was stopped (`discard`): after Stop nothing more is posted. */
export interface ProgressSink {
  emit(event: EngineEvent): void;
  close(opts?: { discard?: boolean }): Promise<void>;
}

export interface ProgressRun {
  agentSessionId: string;
  issueId: string;
  /** Whether the run was stopped. Asked before each post: the stop reaches the session workflow
   *  at once, but this activity only with a heartbeat response, up to about a second later. */
  stopRequested?: () => Promise<boolean>;
}

/** Creates the sink for one run (the Linear progress reporter in production). */
export type ProgressSinkFactory = (run: ProgressRun) => ProgressSink;
