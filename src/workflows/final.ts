// The ids of one final message: Linear takes one `response` (or `error`) per turn, so a body
// longer than an activity allows goes before it as non-ephemeral thought parts, each with its
// own client-chosen UUID v4 generated here (deterministic in the workflow, stable on retry).
import { uuid4 } from '@temporalio/workflow';
import { messageParts } from '../domain/message-parts';
import type { PostFinalInput } from '../contracts/activities';

export function finalIds(body: string): Pick<PostFinalInput, 'activityId' | 'partIds'> {
  const leading = messageParts(body).length - 1;
  const partIds = Array.from({ length: leading }, () => uuid4());
  return leading > 0 ? { activityId: uuid4(), partIds } : { activityId: uuid4() };
}
