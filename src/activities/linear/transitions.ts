// Which workflow state an issue moves to, by the rules kai follows (pure).
//  started: a triage/backlog/unstarted issue goes to the team's first `started` state (lowest
//           position); an issue already started, completed or canceled is left alone.
//  success: the first configured success state name that exists (case-insensitive), else the
//           first `completed` state; an issue a person already completed or canceled is left alone.

export interface StateInfo {
  id: string;
  name: string;
  type: string;
  position: number;
}

export interface SuccessStateConfig {
  success_state_name?: string;
  success_state_names?: string[];
}

const NOT_STARTED = new Set(['triage', 'backlog', 'unstarted']);
const CLOSED = new Set(['completed', 'canceled']);

const byPosition = (a: StateInfo, b: StateInfo) => a.position - b.position;

export function chooseTransition(
  to: 'started' | 'success',
  current: StateInfo,
  states: StateInfo[],
  config: SuccessStateConfig = {},
): StateInfo | undefined {
  const sorted = [...states].sort(byPosition);
  if (to === 'started') {
    if (!NOT_STARTED.has(current.type)) return undefined;
    return sorted.find((s) => s.type === 'started');
  }
  const names = [...(config.success_state_names ?? []), ...(config.success_state_name ? [config.success_state_name] : [])];
  let target: StateInfo | undefined;
  for (const name of names) {
    target = sorted.find((s) => s.name.toLowerCase() === name.trim().toLowerCase());
    if (target) break;
  }
  target ??= sorted.find((s) => s.type === 'completed');
  if (!target || target.id === current.id) return undefined;
  if (CLOSED.has(current.type)) return undefined;
  return target;
}
