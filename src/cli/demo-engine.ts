// The `script` engine command `kai demo` runs: a small POSIX shell program that prints kai's
// own normalized events as JSON lines, slowly enough for a follow-up to arrive mid-run, and
// makes a real change in the worktree. The first turn adds a greeting to the README; a later
// turn (the greeting is already there) thanks the reader at the end.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEMO_GREETING = 'Hello, and welcome! kai added this line from a Linear issue.';
export const DEMO_THANKS = 'Thanks for reading.';

/** Seconds the script pauses between steps (the whole turn takes about four of them). */
export const DEMO_STEP_SECONDS = 0.8;

const SCRIPT = `#!/bin/sh
# kai demo engine: events on stdout as JSON lines, a real edit of README.md.
set -e
step() { sleep "\${KAI_DEMO_STEP:-${DEMO_STEP_SECONDS}}"; }
event() { printf '%s\\n' "$1"; }
# The process group id, so a test that kills the worker can end this run as a dead host would.
if [ -n "$KAI_DEMO_PID_FILE" ]; then echo $$ > "$KAI_DEMO_PID_FILE"; fi

if grep -q "${DEMO_GREETING}" README.md 2>/dev/null; then
  goal="Thank the reader at the end of README.md"
  line="${DEMO_THANKS}"
  where="append"
else
  goal="Add a greeting at the top of README.md"
  line="${DEMO_GREETING}"
  where="top"
fi

event '{"type":"thought","text":"Reading README.md to see where the change fits."}'
event '{"type":"plan","items":[{"content":"Read README.md","status":"completed"},{"content":"'"$goal"'","status":"inProgress"},{"content":"Check the result","status":"pending"}]}'
step
event '{"type":"action","id":"edit","kind":"file_change","title":"Edit README.md","phase":"started"}'
step
if [ "$where" = top ]; then
  { printf '%s\\n\\n' "$line"; cat README.md; } > README.md.kai && mv README.md.kai README.md
else
  printf '\\n%s\\n' "$line" >> README.md
fi
step
event '{"type":"action","id":"edit","kind":"file_change","title":"Edit README.md","phase":"completed","ok":true}'
event '{"type":"plan","items":[{"content":"Read README.md","status":"completed"},{"content":"'"$goal"'","status":"completed"},{"content":"Check the result","status":"inProgress"}]}'
event '{"type":"action","id":"check","kind":"command","title":"grep -c . README.md","phase":"started"}'
count=$(grep -c . README.md)
step
event '{"type":"action","id":"check","kind":"command","title":"grep -c . README.md","detail":"'"$count"' non-empty lines","phase":"completed","ok":true}'
event '{"type":"plan","items":[{"content":"Read README.md","status":"completed"},{"content":"'"$goal"'","status":"completed"},{"content":"Check the result","status":"completed"}]}'
event '{"type":"completed","ok":true,"answer":"Done: '"$goal"' (README.md now has '"$count"' non-empty lines)."}'
`;

/** Writes the script into `dir` and returns the `[engines.script] command` that runs it. */
export function writeDemoEngine(dir: string): string {
  const path = join(dir, 'demo-engine.sh');
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  return `/bin/sh '${path.replace(/'/g, `'\\''`)}'`;
}
