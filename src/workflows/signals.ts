// Signal and query definitions of the issue session workflow. Imported by the workflow and by
// every client (webhook, ingester, CLI), so the wire names live in exactly one place.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Attachment, IssueRef } from '../domain/issue';
import type { SessionStatus } from './types';

export interface PromptSignal {
  /** Linear-Delivery of the webhook (or a stable id derived from the event): the dedupe key. */
  deliveryId: string;
  /** The agent session that asked; the answer goes there. */
  agentSessionId: string;
  /** What the user wrote (the issue itself for a new delegation). */
  body: string;
  /** Display name or id of the person who wrote it. */
  author?: string;
  attachments?: Attachment[];
  /** ISO timestamp at which kai received the event. */
  receivedAt: string;
  /** Where the prompt came from: a new session, a message in a session, or an issue comment. */
  source?: 'created' | 'prompted' | 'comment';
  /** Linear's formatted context (issue, comments, guidance), present on `created`. */
  promptContext?: string;
  /** What the webhook already knows of the issue; saves a lookup and labels the session. */
  issue?: IssueRef;
  /** The Linear comment carrying the message (`Comment.data.id`, `agentActivity.sourceCommentId`,
   *  `agentSession.sourceCommentId` of a mention): one message, one run, whichever webhook came first. */
  commentId?: string;
  /** Root comment of the thread the message was written in (`Comment.data.parentId ?? id`,
   *  `agentSession.commentId`): the session a `comment` prompt belongs to. */
  threadId?: string;
}

export interface StopSignal {
  deliveryId: string;
  agentSessionId: string;
}

export type ResetSignal = StopSignal;

export const promptSignal = defineSignal<[PromptSignal]>('prompt');
export const stopSignal = defineSignal<[StopSignal]>('stop');
export const resetSignal = defineSignal<[ResetSignal]>('reset');
export const statusQuery = defineQuery<SessionStatus>('status');
