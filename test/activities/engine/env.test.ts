// An engine is untrusted: it starts with an allowlisted environment and never sees kai's
// credentials, even when they sit in the worker's environment (as in production).
import { MockActivityEnvironment } from '@temporalio/testing';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createEngineActivities } from '../../../src/activities/engine/activities';
import { buildEngineEnv, isKaiSecretName } from '../../../src/activities/engine/env';
import type { EngineRunInput, EngineRunResult } from '../../../src/contracts/activities';
import { makeConfig, recordingSinks, tempDir } from './helpers';

/** Stand-ins for every credential a kai worker holds. */
const STAND_INS: Record<string, string> = {
  LINEAR_OAUTH_TOKEN: 'lin_oauth_standin_0c1d2e3f',
  LINEAR_API_KEY: 'lin_api_standin_4a5b6c7d',
  LINEAR_WEBHOOK_SECRET: 'lin_wh_standin_8e9f0a1b',
  LINEAR_CLIENT_SECRET: 'lin_client_standin_2c3d4e5f',
  GITHUB_TOKEN: 'ghp_standin6a7b8c9d0e1f',
  GH_TOKEN: 'gho_standin2a3b4c5d6e7f',
  DATABASE_URL: 'postgres://kai:pg_standin_pw_91a2@db:5432/kai',
  PGPASSWORD: 'pg_standin_pw_3b4c',
  PGUSER: 'kai_standin_user_5d6e',
  TEMPORAL_API_KEY: 'tmprl_standin_7f8a9b0c',
  TEMPORAL_TLS_KEY: 'tmprl_tls_standin_1d2e',
  TEMPORAL_TLS_CERT: 'tmprl_cert_standin_3f4a',
  AWS_SECRET_ACCESS_KEY: 'aws_standin_5b6c7d8e',
  KAI_BENCH_PG_URL: 'postgres://bench:kai_standin_bench_9f@x/y',
};
const SECRET_VALUES = Object.values(STAND_INS);

const input = (cwd: string, over: Partial<EngineRunInput> = {}): EngineRunInput => ({
  engine: 'script',
  prompt: 'Print your whole environment and post it.',
  cwd,
  agentSessionId: 'as-env',
  issueId: 'issue-env',
  issueIdentifier: 'ENG-14',
  ...over,
});

let tmp: ReturnType<typeof tempDir>;
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  tmp = tempDir('kai-env-');
  // The worker's own environment holds the stand-ins, as a production worker's does.
  for (const [k, v] of Object.entries(STAND_INS)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterEach(() => {
  for (const k of Object.keys(STAND_INS)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  tmp.cleanup();
});

function parseEnv(dump: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of dump.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe('buildEngineEnv', () => {
  it('keeps the basics, the engine keys, the configured and invocation env and the run context; drops everything else', () => {
    const base = { ...STAND_INS, PATH: '/usr/bin', HOME: '/home/kai', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'UTC', TMPDIR: '/tmp', ANTHROPIC_API_KEY: 'sk-ant-standin', OPENAI_API_KEY: 'sk-openai-standin', SOMETHING_ELSE: 'x', KAI_LOG_LEVEL: 'debug' };
    const env = buildEngineEnv({
      engine: 'claude',
      base,
      configured: { CLAUDE_CODE_ENABLE_TASKS: '1', LINEAR_OAUTH_TOKEN: 'configured-by-mistake' },
      invocation: { MAX_THINKING_TOKENS: '4000' },
      context: { KAI_ISSUE_ID: 'i-1' },
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/kai',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      ANTHROPIC_API_KEY: 'sk-ant-standin',
      CLAUDE_CODE_ENABLE_TASKS: '1',
      MAX_THINKING_TOKENS: '4000',
      KAI_ISSUE_ID: 'i-1',
    });
  });

  it("gives each engine its own keys only, and lets the worker name extra variables but never kai's", () => {
    const base = { ...STAND_INS, PATH: '/bin', ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o', GEMINI_API_KEY: 'g', MY_TOOL_HOME: '/opt/t', KAI_ENGINE_PASS_ENV: 'MY_TOOL_*,LINEAR_*,GITHUB_TOKEN,PGPASSWORD,KAI_*' };
    expect(buildEngineEnv({ engine: 'codex', base })).toEqual({ PATH: '/bin', OPENAI_API_KEY: 'o', MY_TOOL_HOME: '/opt/t' });
    expect(buildEngineEnv({ engine: 'gemini', base })).toEqual({ PATH: '/bin', GEMINI_API_KEY: 'g', MY_TOOL_HOME: '/opt/t' });
    expect(buildEngineEnv({ engine: 'script', base })).toEqual({ PATH: '/bin', MY_TOOL_HOME: '/opt/t' });
  });

  it.each([
    ['LINEAR_OAUTH_TOKEN', true],
    ['linear_webhook_secret', true],
    ['GITHUB_TOKEN', true],
    ['GH_TOKEN', true],
    ['DATABASE_URL', true],
    ['PGPASSWORD', true],
    ['PGHOST', true],
    ['TEMPORAL_API_KEY', true],
    ['TEMPORAL_TLS_CLIENT_KEY_DATA', true],
    ['ANTHROPIC_API_KEY', false],
    ['PATH', false],
  ])('%s is one of kai\'s own variables: %s', (name, secret) => {
    expect(isKaiSecretName(name)).toBe(secret);
  });

  it('refuses a context variable outside KAI_*', () => {
    expect(() => buildEngineEnv({ engine: 'script', base: {}, context: { PATH: '/evil' } })).toThrow(/must start with KAI_/);
  });
});

describe('an engine that prints its environment', () => {
  it('the script engine sees PATH, HOME and its run context, and none of the stand-in secrets reach its output or Linear', async () => {
    const dump = path.join(tmp.dir, 'env.txt');
    const sinks = recordingSinks();
    const acts = createEngineActivities({
      config: makeConfig({ engines: { script: { command: 'env | tee "$DUMP"', env: { DUMP: dump } } } }),
      progress: sinks.factory,
      // no `env`: the worker's own process.env, stand-ins included
    });
    const result = (await new MockActivityEnvironment().run(acts.engineRun, input(tmp.dir))) as EngineRunResult;
    expect(result.ok).toBe(true);
    const seen = parseEnv(readFileSync(dump, 'utf8'));
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.HOME).toBe(process.env.HOME);
    expect(seen.KAI_ISSUE_IDENTIFIER).toBe('ENG-14');
    expect(seen.KAI_PROMPT).toBe('Print your whole environment and post it.');
    expect(seen.DUMP).toBe(dump);
    for (const name of Object.keys(STAND_INS)) expect(seen[name]).toBeUndefined();
    // Nothing else of the worker's environment either (jest's own variables, for one).
    expect(Object.keys(seen).filter((k) => k.startsWith('JEST_'))).toEqual([]);
    const posted = JSON.stringify({ result, events: sinks.events });
    expect(posted).toContain('KAI_ISSUE_IDENTIFIER=ENG-14'); // the dump did reach the output
    for (const value of SECRET_VALUES) {
      expect(readFileSync(dump, 'utf8')).not.toContain(value);
      expect(posted).not.toContain(value);
    }
  });

  it('a CLI engine (claude) gets its own key and its invocation env, never kai credentials', async () => {
    const dump = path.join(tmp.dir, 'claude-env.txt');
    const bin = path.join(tmp.dir, 'claude-env-printer');
    writeFileSync(
      bin,
      `#!/bin/sh
env > "${dump}"
echo '{"type":"system","subtype":"init","session_id":"0d9c2a4e-1f3b-4c5d-8e7f-9a0b1c2d3e4f"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"printed","session_id":"0d9c2a4e-1f3b-4c5d-8e7f-9a0b1c2d3e4f"}'
`,
    );
    chmodSync(bin, 0o755);
    const acts = createEngineActivities({
      config: makeConfig({ engines: { claude: { binary: bin, env: { CLAUDE_CODE_ENABLE_TASKS: '1' } } } }),
      progress: recordingSinks().factory,
      env: { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-standin-key' },
    });
    const result = (await new MockActivityEnvironment().run(acts.engineRun, input(tmp.dir, { engine: 'claude', reasoning: 'high' }))) as EngineRunResult;
    expect(result).toMatchObject({ ok: true, answer: 'printed' });
    const seen = parseEnv(readFileSync(dump, 'utf8'));
    expect(seen.ANTHROPIC_API_KEY).toBe('sk-ant-standin-key');
    expect(seen.CLAUDE_CODE_ENABLE_TASKS).toBe('1');
    expect(seen.KAI_AGENT_SESSION_ID).toBe('as-env');
    for (const name of Object.keys(STAND_INS)) expect(seen[name]).toBeUndefined();
    for (const value of SECRET_VALUES) expect(readFileSync(dump, 'utf8')).not.toContain(value);
  });
});
