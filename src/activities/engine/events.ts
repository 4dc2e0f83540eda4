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

/** Where an engine run sends its progress. One per run; `close()` flushes what is pending. */
export interface ProgressSink {
  emit(event: EngineEvent): void;
  close(): Promise<void>;
  /** The run was stopped: nothing more is posted, what is pending is dropped, and the promise
   *  settles once a post already on its way has landed (Linear's Stop: after it, the only
   *  activity is the final response, which the workflow posts after this activity ended). */
  discard(): Promise<void>;
}

/** Creates the sink for one run (the Linear progress reporter in production). */
export type ProgressSinkFactory = (run: { agentSessionId: string; issueId: string }) => ProgressSink;
