import { ApplicationFailure } from '@temporalio/common';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import { parseTitle } from '../../../src/domain/directives';
import type { ResolveEngineInput } from '../../../src/contracts/activities';
import type { IssueContext } from '../../../src/workflows/types';
import { makeConfig, recordingSinks } from './helpers';

const issue = (over: Partial<IssueContext> = {}): IssueContext => ({
  id: 'i1',
  identifier: 'AV-123',
  title: 'Add JWT authentication',
  description: 'Use RS256 keys.',
  url: 'https://linear.app/acme/issue/AV-123',
  teamId: 't1',
  projectId: 'proj-backend',
  labels: [],
  ...over,
});

const config = makeConfig({
  default_engine: 'claude',
  projects: { backend: { path: '/tmp/backend', default_engine: 'opencode' }, web: { path: '/tmp/web' } },
  plugins: {
    linear: {
      project_map: { 'proj-backend': 'backend', 'proj-web': 'web' },
      project_engines: { backend: 'codex' },
      project_models: { backend: 'gpt-5-codex' },
      project_reasoning: { backend: 'high' },
    },
  },
  engines: { claude: { model: 'sonnet' } },
});

const resolve = (input: Partial<ResolveEngineInput>, cfg = config) =>
  createEngineActivities({ config: cfg, progress: recordingSinks().factory }).engineResolve({
    issue: issue(),
    body: '',
    followUp: false,
    ...input,
  });

describe('engine selection precedence', () => {
  it('title directives win over labels, project settings and defaults, and are stripped from the prompt', async () => {
    const s = await resolve({
      issue: issue({ title: '[engine:claude] [model:opus] Add JWT [reasoning:low] authentication', labels: ['engine > opencode', 'model > haiku'] }),
    });
    expect(s).toEqual({ engine: 'claude', model: 'opus', reasoning: 'low', prompt: 'Add JWT authentication\n\nUse RS256 keys.' });
  });

  it('labels win over the project settings', async () => {
    const s = await resolve({ issue: issue({ labels: ['bug', 'Engine > opencode', 'model > anthropic/claude-sonnet-4-5'] }) });
    expect(s).toMatchObject({ engine: 'opencode', model: 'anthropic/claude-sonnet-4-5', reasoning: 'high' });
  });

  it('project_engines, project_models and project_reasoning apply by project alias', async () => {
    expect(await resolve({})).toMatchObject({ engine: 'codex', model: 'gpt-5-codex', reasoning: 'high' });
  });

  it('falls back to the project default engine, then default_engine and the engine model', async () => {
    const noProjectEngines = makeConfig({
      default_engine: 'claude',
      projects: { backend: { path: '/tmp/backend', default_engine: 'opencode' }, web: { path: '/tmp/web' } },
      plugins: { linear: { project_map: { 'proj-backend': 'backend', 'proj-web': 'web' } } },
      engines: { claude: { model: 'sonnet' } },
    });
    expect(await resolve({}, noProjectEngines)).toEqual({ engine: 'opencode', prompt: 'Add JWT authentication\n\nUse RS256 keys.' });
    expect(await resolve({ issue: issue({ projectId: 'proj-web' }) }, noProjectEngines)).toMatchObject({ engine: 'claude', model: 'sonnet' });
  });

  it('the repository a user chose for the issue is its project for engine choice; an unknown one is not', async () => {
    expect(await resolve({ issue: issue({ projectId: undefined, repository: 'backend' }) })).toMatchObject({ engine: 'codex', model: 'gpt-5-codex' });
    expect(await resolve({ issue: issue({ repository: 'web' }) })).toMatchObject({ engine: 'claude', model: 'sonnet' });
    expect(await resolve({ issue: issue({ repository: 'constructor' }) })).toMatchObject({ engine: 'codex' });
  });

  it('refuses an unknown engine permanently, naming the engines that exist', async () => {
    const err = await resolve({ issue: issue({ title: '[engine:aider] Do it' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('EngineUnavailable');
    expect((err as Error).message).toContain('"aider"');
    expect((err as Error).message).toContain('claude, codex, opencode, pi, gemini, script');
  });
});

describe('the prompt', () => {
  it('strips the @branch prefix and uses promptContext when Linear sent one', async () => {
    const s = await resolve({
      issue: issue({ title: '@feat/auth [model:opus] Add JWT authentication' }),
      promptContext: '<issue identifier="AV-123"><title>@feat/auth [model:opus] Add JWT authentication</title></issue>',
    });
    expect(s.prompt).toBe('<issue identifier="AV-123"><title>Add JWT authentication</title></issue>');
  });

  it('adds the message and the saved file paths; a follow-up sends the new message', async () => {
    const first = await resolve({ body: 'Please also update the docs', files: ['.takopi-linear/attachments/spec.pdf'] });
    expect(first.prompt).toBe(
      'Add JWT authentication\n\nUse RS256 keys.\n\nPlease also update the docs\n\nFiles attached to this request, saved in the working tree:\n- .takopi-linear/attachments/spec.pdf',
    );
    const follow = await resolve({ body: '[model:opus] now add refresh tokens', followUp: true });
    expect(follow.prompt).toBe('now add refresh tokens');
  });

  it('parses the title branch prefix', () => {
    expect(parseTitle('@fix/login Fix the login bug')).toEqual({ branch: 'fix/login', text: 'Fix the login bug', directives: {} });
    expect(parseTitle('[engine:codex] @fix/x Do')).toEqual({ branch: 'fix/x', text: 'Do', directives: { engine: 'codex' } });
    expect(parseTitle('Email me@example.com').branch).toBeUndefined();
  });
});
