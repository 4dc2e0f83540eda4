// The engines kai knows: how each is invoked (exactly as docs/engines.md) and which parser reads
// its stream. Arguments go to execve as a list, never through a shell.
import type { EngineConfig } from '../../config/schema';
import { permanent } from '../errors';
import { ClaudeStreamParser } from './claude';
import { CodexStreamParser } from './codex';
import { GeminiStreamParser } from './gemini';
import { OpenCodeStreamParser } from './opencode';
import { geminiInvocation, piInvocation } from './invocations';
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

/** Thinking budget Claude Code reads from MAX_THINKING_TOKENS, per reasoning level. */
const CLAUDE_THINKING_TOKENS: Record<string, string> = { low: '4000', medium: '10000', high: '31999', xhigh: '63999' };

export interface InvocationInput {
  prompt: string;
  model?: string;
  reasoning?: string;
  resumeToken?: string;
}

export interface Invocation {
  args: string[];
  stdin?: string;
  env: Record<string, string>;
}

// Values that become argv entries: nothing that could be read as an option or break a -c pair.
const SAFE_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:/@+=-]*$/;

function checkValue(what: string, value: string): string {
  if (!SAFE_VALUE.test(value) || value.length > 200)
    throw permanent('invalidInput', `The ${what} "${value.slice(0, 80)}" is not valid: use letters, digits and . _ : / @ + = -`);
  return value;
}

/** argv (after the binary) and stdin for one run of a CLI engine. */
export function buildInvocation(engine: Exclude<EngineName, 'script'>, input: InvocationInput, cfg: EngineConfig | undefined): Invocation {
  const extra = cfg?.args ?? [];
  const env: Record<string, string> = { ...(cfg?.env ?? {}) };
  const model = input.model ? checkValue('model', input.model) : undefined;
  const resume = input.resumeToken ? checkValue('resume token', input.resumeToken) : undefined;
  switch (engine) {
    case 'claude': {
      const args = ['-p', '--output-format', 'stream-json', '--verbose'];
      if (resume) args.push('--resume', resume);
      if (model) args.push('--model', model);
      const mode = cfg?.permission_mode ?? 'acceptEdits';
      if (mode) args.push('--permission-mode', checkValue('permission mode', mode));
      if (input.reasoning) {
        const budget = CLAUDE_THINKING_TOKENS[input.reasoning.toLowerCase()];
        if (budget && env.MAX_THINKING_TOKENS === undefined) env.MAX_THINKING_TOKENS = budget;
      }
      args.push(...extra, '--', input.prompt);
      return { args, env };
    }
    case 'codex': {
      const args = ['exec', '--json', '--skip-git-repo-check', '--color=never'];
      if (model) args.push('-m', model);
      if (input.reasoning) {
        const effort = input.reasoning.toLowerCase();
        if (!(CODEX_REASONING as readonly string[]).includes(effort))
          throw permanent('invalidInput', `Codex reasoning must be one of ${CODEX_REASONING.join(', ')}, not "${input.reasoning}"`);
        args.push('-c', `model_reasoning_effort=${effort}`);
      }
      args.push(...extra);
      if (resume) args.push('resume', resume);
      args.push('-');
      return { args, stdin: input.prompt, env };
    }
    case 'opencode': {
      const args = ['run', '--format', 'json'];
      if (resume) args.push('--session', resume);
      if (model) args.push('--model', model);
      // A prompt that starts with "-" would be read as an option: a leading space is harmless.
      args.push(...extra, input.prompt.startsWith('-') ? ` ${input.prompt}` : input.prompt);
      return { args, env };
    }
    case 'pi':
      return piInvocation({ ...input, model, resumeToken: resume }, extra, env, checkValue);
    case 'gemini':
      return geminiInvocation({ ...input, model, resumeToken: resume }, extra, env);
  }
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
