// Comment commands users type in Linear (the seed's set). Pure: shared by ingress, which turns
// stop/reset into signals, and the workflow, which answers /help and /file.

export type Command =
  | { kind: 'stop' }
  | { kind: 'reset' }
  | { kind: 'help' }
  | { kind: 'file'; op: 'put' | 'get'; path: string };

/** The command a message is, or undefined when it is an ordinary prompt. */
export function parseCommand(body: string): Command | undefined {
  const text = body.trim();
  const lower = text.toLowerCase();
  if (lower === 'stop' || lower === 'cancel' || lower === '/stop' || lower === '/cancel') return { kind: 'stop' };
  if (lower === '/new' || lower === '/reset') return { kind: 'reset' };
  if (lower === '/help' || lower === 'help' || lower === '?') return { kind: 'help' };
  const file = /^\/file\s+(put|get)(?:\s+([\s\S]*))?$/i.exec(text);
  if (file) return { kind: 'file', op: file[1]!.toLowerCase() as 'put' | 'get', path: (file[2] ?? '').trim() };
  return undefined;
}

export const HELP_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['stop, cancel', 'Cancel the current run'],
  ['/new, /reset', 'Clear the conversation and start fresh'],
  ['/help, help, ?', 'Show this help'],
  ['/file put <path>', 'Save the attached file at <path> in the working tree'],
  ['/file get [--include-ignored] <path>', 'Send back a file (or a zipped directory, git-ignored files left out unless asked) from the working tree'],
];

export const HELP_DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['[engine:<name>]', 'Run this issue with another engine (claude, codex, opencode, pi, gemini, script)'],
  ['[model:<name>]', 'Choose the model'],
  ['[reasoning:<level>]', 'Choose the reasoning effort'],
  ['@branch/name', 'At the start of the title: work on that branch'],
  ['labels engine > x, model > x, reasoning > x', 'The same choices as labels'],
];
