// Checklist items in an issue description (`- [ ] item`), for opt-in sub-issues, and the
// estimate kai proposes from their number (pure).

const ITEM = /^\s*[-*+]\s+\[( |x|X)\]\s+(.+?)\s*$/;

export interface ChecklistItem {
  text: string;
  done: boolean;
}

export function parseChecklist(description: string | undefined): ChecklistItem[] {
  if (!description) return [];
  const items: ChecklistItem[] = [];
  let inFence = false;
  for (const line of description.split(/\r?\n/)) {
    if (/^\s{0,3}(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = ITEM.exec(line);
    if (m) items.push({ text: m[2]!.slice(0, 250), done: m[1] !== ' ' });
  }
  return items;
}

/** A Fibonacci-scale estimate from how many open checklist items the issue lists. */
export function estimateFromChecklist(items: ChecklistItem[]): number {
  const open = items.filter((i) => !i.done).length;
  if (open <= 1) return 1;
  if (open <= 3) return 2;
  if (open <= 5) return 3;
  if (open <= 8) return 5;
  return 8;
}
