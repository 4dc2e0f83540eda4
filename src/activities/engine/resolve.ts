// Which engine, model and reasoning a turn runs with, and the prompt it gets. First match wins:
// title directives, labels, the project's plugins.linear.project_* settings, then defaults.
import type { KaiConfig } from '../../config/schema';
import type { EngineSelection, ResolveEngineInput } from '../../contracts/activities';
import { projectAlias, resolveAlias, resolveProject } from '../git/projects';
import { extractDirectives, labelDirectives, parseTitle, type DirectiveKey } from '../../domain/directives';
import { isEngineName, unknownEngineError } from './registry';

export interface ResolvedSelection extends EngineSelection {
  /** Where each choice came from, for logs and /help. */
  sources: Partial<Record<DirectiveKey, string>>;
}

export function resolveEngine(config: KaiConfig, input: ResolveEngineInput): ResolvedSelection {
  const title = parseTitle(input.issue.title);
  const labels = labelDirectives(input.issue.labels ?? []);
  // The repository a user chose for the issue (when kai asked) is its project, as for git.
  const chosen = input.issue.repository && Object.hasOwn(config.projects, input.issue.repository) ? input.issue.repository : undefined;
  const alias = chosen ?? projectAlias(config, input.issue.projectId);
  const project = chosen ? resolveAlias(config, chosen) : resolveProject(config, input.issue.projectId);
  const plugin = config.plugins.linear;
  const byProject = (map: Record<string, string>) =>
    (alias !== undefined ? map[alias] : undefined) ?? (input.issue.projectId ? map[input.issue.projectId] : undefined);

  const sources: ResolvedSelection['sources'] = {};
  const pick = (key: DirectiveKey, projectValue: string | undefined, fallback: string | undefined, fallbackSource: string) => {
    const candidates: Array<[string | undefined, string]> = [
      [title.directives[key], `title directive [${key}:…]`],
      [labels[key], `label "${key} > …"`],
      [projectValue, `plugins.linear.project_${key === 'engine' ? 'engines' : key === 'model' ? 'models' : 'reasoning'}`],
      [fallback, fallbackSource],
    ];
    for (const [value, source] of candidates) {
      if (value) {
        sources[key] = source;
        return value;
      }
    }
    return undefined;
  };

  const engineRaw = pick(
    'engine',
    byProject(plugin.project_engines),
    project.defaultEngine ?? config.default_engine,
    project.defaultEngine ? `projects.${alias}.default_engine` : 'default_engine',
  )!;
  const engine = engineRaw.toLowerCase();
  if (!isEngineName(engine)) throw unknownEngineError(engineRaw, sources.engine ?? '');
  const model = pick('model', byProject(plugin.project_models), config.engines[engine]?.model, `engines.${engine}.model`);
  const reasoning = pick('reasoning', byProject(plugin.project_reasoning), undefined, '');

  const selection: ResolvedSelection = { engine, prompt: buildPrompt(config, input, title.text), sources };
  if (model) selection.model = model;
  if (reasoning) selection.reasoning = reasoning;
  return selection;
}

/** The prompt: Linear's promptContext (or the title and description), the message, the files. */
export function buildPrompt(config: KaiConfig, input: ResolveEngineInput, cleanTitle: string): string {
  const body = extractDirectives(input.body ?? '').text;
  let base: string;
  if (input.promptContext?.trim()) {
    base = stripTitleSyntax(input.promptContext.trim(), input.issue.title, cleanTitle);
  } else {
    const description = input.issue.description?.trim();
    base = description ? `${cleanTitle}\n\n${description}` : cleanTitle;
  }
  const parts: string[] = [];
  if (input.followUp && body) {
    // The engine resumes its own conversation: the new message is what it needs.
    parts.push(body);
  } else {
    parts.push(base);
    if (body && !base.includes(body)) parts.push(body);
  }
  const files = input.files ?? [];
  const tellEngine = !(config.transports.linear.files.enabled && config.transports.linear.files.auto_put && config.transports.linear.files.auto_put_mode === 'upload');
  if (files.length && tellEngine) {
    parts.push(`Files attached to this request, saved in the working tree:\n${files.map((f) => `- ${f}`).join('\n')}`);
  }
  return parts.filter(Boolean).join('\n\n').trim();
}

/** promptContext repeats the raw title: give the engine the cleaned one. */
function stripTitleSyntax(context: string, rawTitle: string, cleanTitle: string): string {
  const withTitle = rawTitle && rawTitle !== cleanTitle ? context.split(rawTitle).join(cleanTitle) : context;
  return extractDirectives(withTitle).text;
}
