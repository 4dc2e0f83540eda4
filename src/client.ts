// How ingress (webhook, ingester) and the CLI reach the issue session workflows: one
// signal-with-start per event, so the first event creates the workflow and later ones join it.
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { issueWorkflowId } from './names';
import {
  promptSignal,
  resetSignal,
  statusQuery,
  stopSignal,
  type PromptSignal,
  type ResetSignal,
  type StopSignal,
} from './workflows/signals';
import type { SessionInput } from './workflows/session';
import type { SessionStatus } from './workflows/types';
import { sessionDetails, sessionSummary } from './workflows/summary';

/** The Web UI's summary and details of a session started by this event (`ENG-123: title`). */
function sessionMetadata(event: SessionSignal): { staticSummary: string; staticDetails: string } {
  const issue = event.type === 'prompt' ? event.payload.issue : undefined;
  return { staticSummary: sessionSummary(event.issueId, issue), staticDetails: sessionDetails({ issueId: event.issueId, issue }) };
}

export type SessionSignal =
  | { type: 'prompt'; issueId: string; payload: PromptSignal }
  | { type: 'stop'; issueId: string; payload: StopSignal }
  | { type: 'reset'; issueId: string; payload: ResetSignal };

const SIGNALS = { prompt: promptSignal, stop: stopSignal, reset: resetSignal } as const;

export interface SessionClientOptions {
  taskQueue: string;
  /** Options every new session workflow starts with (timeouts, Web UI link, ...). */
  sessionOptions?: SessionInput['options'];
}

export class SessionClient {
  constructor(
    readonly client: Client,
    private readonly opts: SessionClientOptions,
  ) {}

  /** Delivers one event to its issue's workflow, creating the workflow when needed.
   *  Resolves once Temporal has durably accepted the signal. */
  async send(event: SessionSignal): Promise<{ workflowId: string; runId: string }> {
    const workflowId = issueWorkflowId(event.issueId);
    const args: [SessionInput] = [{ issueId: event.issueId, options: this.opts.sessionOptions }];
    const common = { workflowId, taskQueue: this.opts.taskQueue, args };
    // One definition per event type; the payload type follows from the discriminated union.
    const signal = SIGNALS[event.type] as SignalDefinition<[SessionSignal['payload']]>;
    const handle = await this.client.workflow.signalWithStart('issueSessionWorkflow', {
      ...common,
      ...sessionMetadata(event),
      signal,
      signalArgs: [event.payload],
    });
    return { workflowId, runId: handle.signaledRunId };
  }

  /** Signals only if the issue's workflow is running (comment follow-ups, issue-level stops):
   *  one SignalWorkflowExecution to the workflow id, so nothing can change between a check and
   *  the signal. Temporal answers NotFound for a missing or closed workflow: false. */
  async sendIfRunning(event: SessionSignal): Promise<boolean> {
    const handle = this.client.workflow.getHandle(issueWorkflowId(event.issueId));
    const signal = SIGNALS[event.type] as SignalDefinition<[SessionSignal['payload']]>;
    try {
      await handle.signal(signal, event.payload);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  async status(issueId: string): Promise<SessionStatus> {
    return this.client.workflow.getHandle(issueWorkflowId(issueId)).query(statusQuery);
  }
}
