// The scripted model behind every API the emulator serves. It reads the conversation (flattened
// to a transcript) and the tools the CLI offered, and decides the next step of the scenario:
// plan -> write the file -> run the command -> answer. A turn is found by its marker text:
// the first turn's prompt contains KAI-EMU-TASK, a follow-up KAI-EMU-FOLLOWUP.

export interface Scenario {
  /** Absolute path of the file the model writes. */
  filePath: string;
  content: string;
  /** Shell command the model runs (in the engine's working directory). */
  command: string;
  /** Plan items the model publishes before working. */
  plan: string[];
  /** The final answer of the first turn. */
  answer: string;
  /** The answer to a follow-up message. */
  followUpAnswer: string;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text of a message's content as the OpenAI APIs send it: a string, or a list of text parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (isRecord(c) && typeof c.text === 'string' ? c.text : '')).join('\n');
  return '';
}

export const TASK_MARKER = 'KAI-EMU-TASK';
export const FOLLOWUP_MARKER = 'KAI-EMU-FOLLOWUP';

export interface ToolSpec {
  name: string;
  /** `function` (JSON arguments) or `custom` (free-form input, Codex's apply_patch). */
  type: 'function' | 'custom';
}

export type Entry = { kind: 'user'; text: string } | { kind: 'call'; name: string } | { kind: 'result'; text: string } | { kind: 'assistant'; text: string };

export interface Transcript {
  entries: Entry[];
  tools: ToolSpec[];
  /** The system prompt / instructions, flattened. */
  system: string;
}

export interface ToolCall {
  name: string;
  type: 'function' | 'custom';
  /** JSON arguments for function tools, raw input for custom tools. */
  input: Record<string, unknown> | string;
}

export type ScenarioStep =
  | { kind: 'load-tools' | 'plan' | 'edit' | 'command' | 'plan-done'; call: ToolCall }
  | { kind: 'answer' | 'followup' | 'side'; text: string };

const has = (t: Transcript, name: string) => t.tools.find((x) => x.name === name);

function planCall(s: Scenario, t: Transcript, done: boolean): ToolCall | undefined {
  const status = (i: number) => (done ? 'completed' : i === 0 ? 'in_progress' : 'pending');
  if (has(t, 'TodoWrite'))
    return { name: 'TodoWrite', type: 'function', input: { todos: s.plan.map((content, i) => ({ content, status: status(i), activeForm: content })) } };
  if (has(t, 'TaskCreate') && !done) return { name: 'TaskCreate', type: 'function', input: { subject: s.plan[0] ?? 'Work', description: s.plan.join('; ') } };
  if (has(t, 'TaskUpdate') && done) {
    // The id Claude Code gave the task, from the TaskCreate result ("Task #1 created successfully").
    const created = t.entries.map((e) => (e.kind === 'result' ? /Task #(\S+) created/.exec(e.text)?.[1] : undefined)).filter(Boolean).pop();
    return { name: 'TaskUpdate', type: 'function', input: { taskId: created ?? '1', status: 'completed' } };
  }
  if (has(t, 'update_plan')) return { name: 'update_plan', type: 'function', input: { plan: s.plan.map((step, i) => ({ step, status: status(i) })) } };
  if (has(t, 'todowrite'))
    return {
      name: 'todowrite',
      type: 'function',
      input: { todos: s.plan.map((content, i) => ({ id: String(i + 1), content, status: status(i), priority: 'medium' })) },
    };
  return undefined;
}

function editCall(s: Scenario, t: Transcript): ToolCall | undefined {
  if (has(t, 'Write')) return { name: 'Write', type: 'function', input: { file_path: s.filePath, content: s.content } };
  const patch = `*** Begin Patch\n*** Add File: ${s.filePath}\n${s.content.replace(/\n$/, '').split('\n').map((l) => `+${l}`).join('\n')}\n*** End Patch\n`;
  const applyPatch = has(t, 'apply_patch');
  if (applyPatch) return { name: 'apply_patch', type: applyPatch.type, input: applyPatch.type === 'custom' ? patch : { input: patch } };
  if (has(t, 'write')) return { name: 'write', type: 'function', input: { filePath: s.filePath, content: s.content } };
  return undefined;
}

function commandCall(s: Scenario, t: Transcript): ToolCall | undefined {
  if (has(t, 'Bash')) return { name: 'Bash', type: 'function', input: { command: s.command, description: 'Run the check' } };
  if (has(t, 'exec_command')) return { name: 'exec_command', type: 'function', input: { cmd: s.command } };
  if (has(t, 'shell_command')) return { name: 'shell_command', type: 'function', input: { command: s.command } };
  if (has(t, 'shell')) return { name: 'shell', type: 'function', input: { command: ['bash', '-lc', s.command] } };
  if (has(t, 'bash')) return { name: 'bash', type: 'function', input: { command: s.command, description: 'Run the check' } };
  return undefined;
}

/** The next step: what the model does given what it has done since the turn's prompt. */
export function nextStep(s: Scenario, t: Transcript): ScenarioStep {
  let turnAt = -1;
  let followUp = false;
  t.entries.forEach((e, i) => {
    if (e.kind !== 'user') return;
    if (e.text.includes(FOLLOWUP_MARKER)) {
      turnAt = i;
      followUp = true;
    } else if (e.text.includes(TASK_MARKER)) {
      turnAt = i;
      followUp = false;
    }
  });
  // Requests that are not the conversation (titles, summaries, quota probes) get a short answer.
  if (turnAt < 0 || t.tools.length === 0) return { kind: 'side', text: 'Emulated model note.' };
  if (followUp) return { kind: 'followup', text: s.followUpAnswer };
  const turn = t.entries.slice(turnAt + 1);
  const done = turn.filter((e) => e.kind === 'call').length;
  // Claude Code defers its task tools behind ToolSearch: a model loads them before using them.
  const searched = turn.some((e) => e.kind === 'call' && e.name === 'ToolSearch');
  const deferred = !has(t, 'TaskCreate') && !has(t, 'TodoWrite') && has(t, 'ToolSearch') && t.entries.some((e) => e.kind === 'user' && e.text.includes('TaskCreate'));
  const load: ToolCall | undefined = searched || deferred ? { name: 'ToolSearch', type: 'function', input: { query: 'select:TaskCreate,TaskUpdate' } } : undefined;
  const plan = [load, planCall(s, t, false), editCall(s, t), commandCall(s, t), planCall(s, t, true)];
  const kinds = ['load-tools', 'plan', 'edit', 'command', 'plan-done'] as const;
  let n = 0;
  for (let i = 0; i < plan.length; i++) {
    const call = plan[i];
    if (!call) continue; // the CLI did not offer this tool
    if (n === done) return { kind: kinds[i]!, call };
    n++;
  }
  return { kind: 'answer', text: s.answer };
}

export function stepText(step: ScenarioStep): string | undefined {
  return 'text' in step ? step.text : undefined;
}
