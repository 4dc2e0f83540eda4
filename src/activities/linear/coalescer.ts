// Folds a burst of engine events into the few Agent Activities worth posting (pure; the
// reporter owns timing and I/O). Per flush at most: one thought (the window's thoughts joined),
// one action (the window's finished actions, summarised when several) and, while something
// still runs, one ephemeral action that the next activity replaces.
import type { EngineEvent } from '../engine/events';

type ActionEvent = Extract<EngineEvent, { type: 'action' }>;
type PlanEvent = Extract<EngineEvent, { type: 'plan' }>;

export interface ActivityDraft {
  content: { type: 'thought'; body: string } | { type: 'action'; action: string; parameter: string; result?: string };
  ephemeral: boolean;
}

const MAX_LISTED = 20;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export class ProgressCoalescer {
  private thoughts: string[] = [];
  private finished: ActionEvent[] = [];
  /** Actions started and not yet completed, in start order. */
  private running = new Map<string, ActionEvent>();
  /** The ephemeral activity last posted, to skip posting the same one again. */
  private lastLiveKey?: string;
  private plan?: PlanEvent['items'];
  private lastPlanKey?: string;
  dirtyActivities = false;

  constructor(private readonly maxBody: number) {}

  /** Records an event; returns which flushes it calls for. */
  add(event: EngineEvent): { activities: boolean; plan: boolean } {
    switch (event.type) {
      case 'thought':
        if (event.text.trim()) this.thoughts.push(event.text.trim());
        break;
      case 'action':
        if (event.phase === 'completed') {
          this.running.delete(event.id);
          this.finished.push(event);
        } else {
          this.running.set(event.id, event);
        }
        break;
      case 'plan':
        this.plan = event.items;
        return { activities: false, plan: true };
      default:
        return { activities: false, plan: false };
    }
    this.dirtyActivities = true;
    return { activities: true, plan: false };
  }

  /** The activities to post now. `final`: the run is over, so nothing is still in progress. */
  takeActivities(final: boolean): ActivityDraft[] {
    const drafts: ActivityDraft[] = [];
    if (this.thoughts.length) {
      drafts.push({ content: { type: 'thought', body: clip(this.thoughts.join('\n\n'), this.maxBody) }, ephemeral: false });
      this.thoughts = [];
    }
    if (this.finished.length) {
      drafts.push({ content: this.summarise(this.finished), ephemeral: false });
      this.finished = [];
    }
    const live = [...this.running.values()].pop();
    if (!final && live) {
      const key = `${live.id}:${live.title}:${live.detail ?? ''}`;
      // Re-post the live action only if something else replaced it meanwhile or it changed.
      if (drafts.length || key !== this.lastLiveKey) {
        drafts.push({
          content: { type: 'action', action: clip(live.title, 200), parameter: clip(live.detail ?? live.kind, 1000) },
          ephemeral: true,
        });
        this.lastLiveKey = key;
      }
    } else if (drafts.length) this.lastLiveKey = undefined;
    this.dirtyActivities = false;
    return drafts;
  }

  takePlan(): PlanEvent['items'] | undefined {
    if (!this.plan) return undefined;
    const key = JSON.stringify(this.plan);
    const plan = this.plan;
    this.plan = undefined;
    if (key === this.lastPlanKey) return undefined;
    this.lastPlanKey = key;
    return plan;
  }

  private summarise(actions: ActionEvent[]): ActivityDraft['content'] {
    const failed = actions.filter((a) => a.ok === false).length;
    if (actions.length === 1) {
      const a = actions[0]!;
      return {
        type: 'action',
        action: clip(a.title, 200),
        parameter: clip(a.detail ?? a.kind, 1000),
        result: a.ok === false ? 'failed' : 'done',
      };
    }
    const listed = actions.slice(0, MAX_LISTED).map((a) => `${a.ok === false ? '✗' : '✓'} ${clip(a.title, 120)}`);
    if (actions.length > MAX_LISTED) listed.push(`… and ${actions.length - MAX_LISTED} more`);
    return {
      type: 'action',
      action: `Ran ${actions.length} steps`,
      parameter: clip(listed.join('\n'), this.maxBody),
      result: failed ? `${actions.length - failed} succeeded, ${failed} failed` : 'all succeeded',
    };
  }
}
