// kai's own lifecycle plan, shown in Linear until the engine publishes a todo list of its own.
import type { PlanItem, PlanStatus } from '../domain/linear';

export const LIFECYCLE_STEPS = [
  'Read the issue',
  'Prepare the workspace',
  'Do the work',
  'Open the pull request',
  'Report back',
] as const;

export type LifecycleStep = (typeof LIFECYCLE_STEPS)[number];

/** The plan with `current` in progress, the steps before it completed and the rest pending.
 *  `current` undefined means all done; `canceledFrom` cancels that step and those after it. */
export function lifecyclePlan(current?: LifecycleStep, canceledFrom?: LifecycleStep): PlanItem[] {
  const at = current === undefined ? LIFECYCLE_STEPS.length : LIFECYCLE_STEPS.indexOf(current);
  const cancelAt = canceledFrom === undefined ? Infinity : LIFECYCLE_STEPS.indexOf(canceledFrom);
  return LIFECYCLE_STEPS.map((content, i) => {
    let status: PlanStatus = i < at ? 'completed' : i === at ? 'inProgress' : 'pending';
    if (i >= cancelAt) status = 'canceled';
    return { content, status };
  });
}
