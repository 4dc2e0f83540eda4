// The command lines of the seed's pi engine and Google's Gemini CLI (docs/engines.md, sections
// "pi" and "Gemini CLI"). Both read the prompt on stdin, so a long prompt never meets the
// argument-size limit; every value that becomes an argument was checked by the registry.
import { permanent } from '../errors';

export interface InvocationInput {
  prompt: string;
  model?: string;
  reasoning?: string;
  resumeToken?: string;
}

export interface Invocation {
  args: string[];
  /** The prompt: every CLI engine reads it on stdin (no argv length limit, no quoting). */
  stdin?: string;
  /** Per-engine variables the run needs; merged over the engine environment. */
  env: Record<string, string>;
}

/** pi's `--thinking` levels (pi 0.73). */
export const PI_THINKING = ['off', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;

/**
 * `pi --mode json [--session <id>] [--model <m>] [--thinking <level>] <args>`, prompt on stdin.
 * pi runs its tools (read, bash, edit, write) without asking: it has no permission prompts.
 */
export function piInvocation(
  input: InvocationInput,
  extra: string[],
  env: Record<string, string>,
  check: (what: string, value: string) => string,
): Invocation {
  const args = ['--mode', 'json'];
  if (input.resumeToken) args.push('--session', input.resumeToken);
  if (input.model) args.push('--model', input.model);
  if (input.reasoning) {
    const level = input.reasoning.toLowerCase();
    if (!(PI_THINKING as readonly string[]).includes(level))
      throw permanent('invalidInput', `pi reasoning must be one of ${PI_THINKING.join(', ')}, not "${input.reasoning}"`);
    args.push('--thinking', check('reasoning level', level));
  }
  args.push(...extra);
  return { args, stdin: input.prompt, env };
}

/**
 * `gemini --output-format stream-json --approval-mode yolo --skip-trust [--model <m>]
 * [--resume <session id>] <args>`, prompt on stdin (a non-TTY stdin makes the run headless).
 * yolo: a headless run cannot answer approval prompts; kai contains the run itself. Gemini CLI
 * has no reasoning switch, so a reasoning directive is not passed to it.
 */
export function geminiInvocation(input: InvocationInput, extra: string[], env: Record<string, string>): Invocation {
  const args = ['--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust'];
  if (input.model) args.push('--model', input.model);
  if (input.resumeToken) args.push('--resume', input.resumeToken);
  args.push(...extra);
  return { args, stdin: input.prompt, env };
}
