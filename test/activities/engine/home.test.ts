// Each issue's engine home lives under the worker's data directory: the engine is pointed at it
// through its documented variable, the worker's own login is brought in at first use, and the
// engine still gets none of kai's secrets.
import { MockActivityEnvironment } from '@temporalio/testing';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import { engineHomePath, prepareEngineHome } from '../../../src/activities/engine/home';
import type { EngineRunInput, EngineRunResult } from '../../../src/activities/types';
import { engineEnv, makeConfig, recordingSinks, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
let workerHome: string;
let dataDir: string;
beforeEach(() => {
  tmp = tempDir('kai-home-');
  workerHome = path.join(tmp.dir, 'home');
  dataDir = path.join(tmp.dir, 'data');
  // the worker's own logins, as `claude login` / `codex login` leave them
  mkdirSync(path.join(workerHome, '.claude'), { recursive: true });
  writeFileSync(path.join(workerHome, '.claude', '.credentials.json'), '{"claudeAiOauth":{}}');
  writeFileSync(path.join(workerHome, '.claude', 'settings.json'), '{"model":"opus"}');
  writeFileSync(path.join(workerHome, '.claude.json'), '{"hasCompletedOnboarding":true}');
  mkdirSync(path.join(workerHome, '.codex'), { recursive: true });
  writeFileSync(path.join(workerHome, '.codex', 'auth.json'), '{"OPENAI_API_KEY":"sk-engine"}');
});
afterEach(() => tmp.cleanup());

const input = (cwd: string, over: Partial<EngineRunInput>): EngineRunInput => ({
  engine: 'claude',
  prompt: 'Work',
  cwd,
  agentSessionId: 'as-1',
  issueId: 'issue-1',
  issueIdentifier: 'AV-1',
  ...over,
});

function records(file: string): Array<{ engine: string; homes: Record<string, string | undefined>; kaiSecrets: string[] }> {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('claude and codex run with a home of their own per issue under the data directory, logged in as the worker, and with no kai secret', async () => {
  const rec = path.join(tmp.dir, 'rec.jsonl');
  const env = engineEnv({
    FAKE_ENGINE_RECORD: rec,
    HOME: workerHome,
    LINEAR_OAUTH_TOKEN: 'lin_secret',
    GITHUB_TOKEN: 'ghp_secret',
    TEMPORAL_API_KEY: 'tmprl_secret',
    DATABASE_URL: 'postgres://kai:pw@db/kai',
  });
  const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env, dataDir });
  const activity = new MockActivityEnvironment();
  const run = (over: Partial<EngineRunInput>) => activity.run(acts.engineRun, input(tmp.dir, over)) as Promise<EngineRunResult>;
  expect((await run({ engine: 'claude', issueId: 'issue-1' })).ok).toBe(true);
  expect((await run({ engine: 'claude', issueId: 'issue-2' })).ok).toBe(true);
  expect((await run({ engine: 'codex', issueId: 'issue-1' })).ok).toBe(true);

  const [c1, c2, x1] = records(rec);
  const claude1 = engineHomePath(dataDir, 'issue-1', 'claude');
  expect(c1!.homes.CLAUDE_CONFIG_DIR).toBe(claude1);
  expect(c2!.homes.CLAUDE_CONFIG_DIR).toBe(engineHomePath(dataDir, 'issue-2', 'claude'));
  expect(x1!.homes.CODEX_HOME).toBe(engineHomePath(dataDir, 'issue-1', 'codex'));
  expect(c1!.homes.HOME).toBe(workerHome);
  // the login is linked (a refreshed token reaches every issue), the settings copied
  expect(lstatSync(path.join(claude1, '.credentials.json')).isSymbolicLink()).toBe(true);
  expect(realpathSync(path.join(claude1, '.credentials.json'))).toBe(realpathSync(path.join(workerHome, '.claude', '.credentials.json')));
  expect(lstatSync(path.join(claude1, 'settings.json')).isFile()).toBe(true);
  expect(readFileSync(path.join(claude1, '.claude.json'), 'utf8')).toContain('hasCompletedOnboarding');
  expect(realpathSync(path.join(engineHomePath(dataDir, 'issue-1', 'codex'), 'auth.json'))).toBe(realpathSync(path.join(workerHome, '.codex', 'auth.json')));
  for (const r of [c1, c2, x1]) expect(r!.kaiSecrets).toEqual([]);
});

test('a home keeps what the engine wrote in it: the worker\'s settings are brought in once, never over the issue\'s own', () => {
  const env = { HOME: workerHome };
  const vars = prepareEngineHome({ engine: 'claude', issueId: 'issue-1', dataDir, env });
  const settings = path.join(vars.CLAUDE_CONFIG_DIR!, 'settings.json');
  writeFileSync(settings, '{"model":"sonnet"}');
  prepareEngineHome({ engine: 'claude', issueId: 'issue-1', dataDir, env });
  expect(readFileSync(settings, 'utf8')).toBe('{"model":"sonnet"}');
});

test('opencode, pi and gemini are pointed at the issue\'s home through their own variables; the script engine has none', () => {
  mkdirSync(path.join(workerHome, '.local', 'share', 'opencode'), { recursive: true });
  writeFileSync(path.join(workerHome, '.local', 'share', 'opencode', 'auth.json'), '{}');
  mkdirSync(path.join(workerHome, '.gemini'), { recursive: true });
  writeFileSync(path.join(workerHome, '.gemini', 'oauth_creds.json'), '{}');
  const env = { HOME: workerHome };
  const opencode = prepareEngineHome({ engine: 'opencode', issueId: 'i', dataDir, env });
  expect(opencode).toEqual({ XDG_DATA_HOME: engineHomePath(dataDir, 'i', 'opencode') });
  expect(existsSync(path.join(opencode.XDG_DATA_HOME!, 'opencode', 'auth.json'))).toBe(true);
  expect(prepareEngineHome({ engine: 'pi', issueId: 'i', dataDir, env })).toEqual({ PI_CODING_AGENT_DIR: engineHomePath(dataDir, 'i', 'pi') });
  const gemini = prepareEngineHome({ engine: 'gemini', issueId: 'i', dataDir, env });
  expect(gemini).toEqual({ GEMINI_CLI_HOME: engineHomePath(dataDir, 'i', 'gemini') });
  expect(existsSync(path.join(gemini.GEMINI_CLI_HOME!, '.gemini', 'oauth_creds.json'))).toBe(true);
  expect(prepareEngineHome({ engine: 'script', issueId: 'i', dataDir, env })).toEqual({});
  // an issue id cannot climb out of the data directory
  expect(engineHomePath(dataDir, '../../etc', 'claude').startsWith(path.join(dataDir, 'engine-homes') + path.sep)).toBe(true);
});

test('at the end of a session the issue\'s homes are removed, and the worker\'s login they linked to stays', async () => {
  const env = engineEnv({ HOME: workerHome });
  const acts = createEngineActivities({ config: makeConfig(), progress: recordingSinks().factory, env, dataDir });
  const claude = prepareEngineHome({ engine: 'claude', issueId: 'issue-1', dataDir, env }).CLAUDE_CONFIG_DIR!;
  const other = prepareEngineHome({ engine: 'claude', issueId: 'issue-2', dataDir, env }).CLAUDE_CONFIG_DIR!;
  await acts.engineRemoveHomes({ issueId: 'issue-1' });
  expect(existsSync(path.dirname(claude))).toBe(false);
  expect(existsSync(other)).toBe(true);
  expect(readFileSync(path.join(workerHome, '.claude', '.credentials.json'), 'utf8')).toBe('{"claudeAiOauth":{}}');
});
