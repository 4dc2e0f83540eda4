// The engines kai knows: how each is invoked (exactly as docs/engines.md) and which parser reads
// its stream. Arguments go to execve as a list, never through a shell.
import type { EngineConfig } from '../../config/schema';
import { permanent } from '../errors';
import { ClaudeStreamParser } from './claude';
import { CodexStreamParser } from './codex';
import { GeminiStreamParser } from './gemini';
import { OpenCodeStreamParser } from './opencode';
import { geminiInvocation, piInvocation, type Invocation, type InvocationInput } from './invocations';
import { PiStreamParser } from './pi';
import type { EngineStreamParser, LineWarning } from './parser';
import { ScriptStreamParser } from './script';

export const ENGINE_NAMES = ['claude', 'codex', 'opencode', 'pi', 'gemini', 'script'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export function isEngineName(name: string): name is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}

export const DEFAULT_BINARIES: Record<Exclude<EngineName, 'script'>, string> = {
  claude: 'claude',
  codex: 'codex',
  opencode: 'opencode',
  pi: 'pi',
  gemini: 'gemini',
};

export const CODEX_REASONING = ['minimal', 'low', 'medium', 'high', 'xhigh'] as const;
/** `claude --effort` levels (claude 2.1.332 `--help`). */
export const CLAUDE_EFFORT = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
/** Codex sandbox modes (`codex exec --help`, 0.171.0). */
export const CODEX_SANDBOXES = ['read-only', 'workspace-write', 'danger-full-access'] as const;

/**
 * What Claude Code may do without asking (a headless run cannot answer a prompt): read, edit
 * and write files (acceptEdits confines edits to the worktree), run commands, and keep its plan
 * with the todo or task tools. Override with `[engines.claude] allowed_tools`.
 */
export const CLAUDE_ALLOWED_TOOLS = [
  'Bash', 'Read', 'Edit', 'MultiEdit', 'Write', 'NotebookEdit', 'Glob', 'Grep',
  'TodoWrite', 'TaskCreate', 'TaskUpdate', 'TaskGet', 'TaskList',
] as const;

// Values that become argv entries: nothing that could be read as an option or break a -c pair.
const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:/@+=-]*$/;
// Model names may carry a bracketed variant: Claude Code's `sonnet[1m]`.
const SAFE_MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/@+=-]*(?:\[[A-Za-z0-9._-]+\])?$/;

function checkValue(what: string, value: string, pattern = SAFE_VALUE): string {
  if (!pattern.test(value) || value.length > 200)
    throw permanent('invalidInput', `The ${what} "${value.slice(0, 80)}" is not valid: use letters, digits and . _ : / @ + = -`);
  return value;
}

function pickLevel(engine: string, raw: string, allowed: readonly string[], aliases: Record<string, string>): string {
  const value = raw.toLowerCase();
  const level = aliases[value] ?? value;
  if (!allowed.includes(level))
    throw permanent('invalidInput', `${engine} reasoning must be one of ${allowed.join(', ')}, not "${raw.slice(0, 40)}"`);
  return level;
}

/** argv (after the binary), stdin and extra environment for one run of a CLI engine. */
export function buildInvocation(engine: Exclude<EngineName, 'script'>, input: InvocationInput, cfg: EngineConfig | undefined): Invocation {
  const extra = cfg?.args ?? [];
  const env: Record<string, string> = {};
  const model = input.model ? checkValue('model', input.model, SAFE_MODEL) : undefined;
  const resume = input.resumeToken ? checkValue('resume token', input.resumeToken) : undefined;
  switch (engine) {
    case 'claude': {
      const args = ['-p', '--output-format', 'stream-json', '--verbose'];
      if (resume) args.push('--resume', resume);
      if (model) args.push('--model', model);
      if (input.reasoning) args.push('--effort', pickLevel('Claude', input.reasoning, CLAUDE_EFFORT, { minimal: 'low' }));
      const mode = cfg?.permission_mode ?? 'acceptEdits';
      if (mode) args.push('--permission-mode', checkValue('permission mode', mode));
      const tools = cfg?.allowed_tools ?? CLAUDE_ALLOWED_TOOLS;
      if (tools.length) args.push('--allowedTools', tools.map((t) => checkTool(t)).join(','));
      // The plan tools: tasks (TaskCreate/TaskUpdate) and, where the model offers them, todos.
      env.CLAUDE_CODE_ENABLE_TASKS = '1';
      env.CLAUDE_CODE_ENABLE_TODO_TOOLS = '1';
      args.push(...extra);
      return { args, stdin: input.prompt, env: { ...env, ...(cfg?.env ?? {}) } };
    }
    case 'codex': {
      const sandbox = cfg?.sandbox ?? 'workspace-write';
      // --sandbox right after exec: it applies to new and resumed runs alike.
      const args = ['exec', '--sandbox', sandbox, '--json', '--skip-git-repo-check', '--color=never'];
      // The plan tool (update_plan -> todo_list items -> the Linear plan) is off unless enabled.
      args.push('-c', 'tools.update_plan.enabled=true');
      if (model) args.push('-m', model);
      if (input.reasoning) args.push('-c', `model_reasoning_effort=${pickLevel('Codex', input.reasoning, CODEX_REASONING, { max: 'xhigh' })}`);
      args.push(...extra);
      if (resume) args.push('resume', resume);
      args.push('-');
      return { args, stdin: input.prompt, env: { ...env, ...(cfg?.env ?? {}) } };
    }
    case 'opencode': {
      if (!model || !model.includes('/'))
        throw permanent(
          'invalidInput',
          `OpenCode needs an explicit provider/model${model ? `, not "${model}"` : ''}: set [engines.opencode] model = "<provider>/<model>" ` +
            `(a provider configured for OpenCode) or write [model:<provider>/<model>] in the issue title. kai never lets OpenCode fall back to a hosted default.`,
        );
      const args = ['run', '--format', 'json'];
      if (resume) args.push('--session', resume);
      args.push('--model', model);
      if (input.reasoning) args.push('--variant', checkValue('reasoning variant', input.reasoning.toLowerCase()));
      // Without --auto a permission ask in a headless run is rejected or waits forever.
      if (cfg?.auto_approve ?? true) args.push('--auto');
      args.push(...extra);
      return { args, stdin: input.prompt, env: { ...env, ...(cfg?.env ?? {}) } };
    }
    case 'pi':
      return piInvocation({ ...input, model, resumeToken: resume }, extra, env, checkValue);
    case 'gemini':
      return geminiInvocation({ ...input, model, resumeToken: resume }, extra, env);
  }
}

const SAFE_TOOL = /^[A-Za-z0-9_]+(?:\([^()\n]*\))?$/;
function checkTool(tool: string): string {
  if (!SAFE_TOOL.test(tool) || tool.length > 200)
    throw permanent('invalidInput', `The allowed tool "${tool.slice(0, 80)}" is not valid: write a tool name, optionally with a rule, e.g. Bash or Bash(npm test:*)`);
  return tool;
}

export function createParser(
  engine: EngineName,
  warn: LineWarning,
  script?: { command?: string; resumeToken?: string },
): EngineStreamParser {
  switch (engine) {
    case 'claude':
      return new ClaudeStreamParser(warn);
    case 'codex':
      return new CodexStreamParser(warn);
    case 'opencode':
      return new OpenCodeStreamParser(warn);
    case 'pi':
      return new PiStreamParser(warn);
    case 'gemini':
      return new GeminiStreamParser(warn);
    case 'script':
      return new ScriptStreamParser(script?.command, script?.resumeToken, warn);
  }
}

export function unknownEngineError(name: string, where: string) {
  return permanent(
    'engineUnavailable',
    `Unknown engine "${name}"${where ? ` (from ${where})` : ''}. The engines that exist are: ${ENGINE_NAMES.join(', ')}.`,
    { engine: name, engines: [...ENGINE_NAMES] },
  );
}
