// Folds engine events into the few Agent Activities worth posting (pure; the reporter owns
// timing and I/O). Two kinds: a live, ephemeral activity (what happens now: the latest thought
// or running action), refreshed often and replaced in place; and a lasting record (thoughts
// joined, finished actions summarised), posted seldom and when the run ends.
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
  private lastEvent?: 'thought' | 'action';

  constructor(private readonly maxBody: number) {}

  /** Records an event; returns which flushes it calls for. */
  add(event: EngineEvent): { live: boolean; record: boolean; plan: boolean } {
    switch (event.type) {
      case 'thought':
        if (!event.text.trim()) return { live: false, record: false, plan: false };
        this.thoughts.push(event.text.trim());
        this.lastEvent = 'thought';
        return { live: true, record: true, plan: false };
      case 'action':
        this.lastEvent = 'action';
        if (event.phase === 'completed') {
          this.running.delete(event.id);
          this.finished.push(event);
          return { live: true, record: true, plan: false };
        }
        this.running.set(event.id, event);
        return { live: true, record: false, plan: false };
      case 'plan':
        this.plan = event.items;
        return { live: false, record: false, plan: true };
      default:
        return { live: false, record: false, plan: false };
    }
  }

  /** The ephemeral activity showing what happens right now (the latest thought or the running
   *  action, whichever came last), or nothing when Linear already shows it. */
  takeLive(): ActivityDraft[] {
    const live = [...this.running.values()].pop();
    const thought = this.thoughts[this.thoughts.length - 1];
    let draft: ActivityDraft | undefined;
    let key: string | undefined;
    if (live && (this.lastEvent === 'action' || !thought)) {
      key = `action:${live.id}:${live.title}:${live.detail ?? ''}`;
      draft = { content: { type: 'action', action: clip(live.title, 200), parameter: clip(live.detail ?? live.kind, 1000) }, ephemeral: true };
    } else if (thought) {
      key = `thought:${this.thoughts.length}:${thought}`;
      draft = { content: { type: 'thought', body: clip(thought, this.maxBody) }, ephemeral: true };
    }
    if (!draft || key === this.lastLiveKey) return [];
    this.lastLiveKey = key;
    return [draft];
  }

  /** The lasting record since the last one: the thoughts joined, and the finished actions
   *  (summarised when several). Posting it replaces the live activity. */
  takeRecord(): ActivityDraft[] {
    const drafts: ActivityDraft[] = [];
    if (this.thoughts.length) {
      drafts.push({ content: { type: 'thought', body: clip(this.thoughts.join('\n\n'), this.maxBody) }, ephemeral: false });
      this.thoughts = [];
    }
    if (this.finished.length) {
      drafts.push({ content: this.summarise(this.finished), ephemeral: false });
      this.finished = [];
    }
    if (drafts.length) this.lastLiveKey = undefined;
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
