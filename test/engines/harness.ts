// Running the real engine CLIs (pinned in scripts/ensure-engines.sh, installed under
// .tools/engines/) through kai's engine activity against the loopback model-API emulator.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEngineActivities } from '../../src/activities/engine/activities';
import type { EngineRunInput, EngineRunResult } from '../../src/contracts/activities';
import { startModelApi, type ModelApiEmulator, type ModelApiOptions, type Scenario } from '../../src/emulator/model-api';
import { makeConfig, recordingSinks, tempDir } from '../activities/engine/helpers';
import { createLinearProgress } from '../../src/activities/linear';
import type { ProgressSinkFactory } from '../../src/activities/engine/events';
import { startRig, type Rig } from '../activities/linear/helpers';

export const ROOT = path.join(__dirname, '..', '..');
export const ENGINE_BIN = path.join(ROOT, '.tools', 'engines', 'bin');
export const NODE24_BIN = path.join(ROOT, '.tools', 'node', 'bin');
export const EMU_KEY = 'sk-kai-emulator-key';
export type RealEngine = 'claude' | 'codex' | 'opencode';

/** The CLI's launcher, installing the pinned version first when it is missing. */
export function ensureEngine(engine: RealEngine): string {
  const bin = path.join(ENGINE_BIN, engine);
  if (!existsSync(bin)) execFileSync(path.join(ROOT, 'scripts', 'ensure-engines.sh'), [engine], { stdio: 'inherit', timeout: 10 * 60_000 });
  return bin;
}

export function scenario(worktree: string): Scenario {
  return {
    filePath: path.join(worktree, 'hello.txt'),
    content: 'hello from the engine\n',
    command: 'echo command-ran > ran.txt',
    plan: ['Write hello.txt', 'Run the check'],
    answer: 'Wrote hello.txt and ran the check.',
    followUpAnswer: 'Follow-up done: the file and the command are in place.',
  };
}

// Codex learns a model's tools from its catalog: the emulated model gets apply_patch (freeform)
// and the shell_command shell, like the real gpt-5 codex models in Codex's own models.json.
const CODEX_CATALOG = {
  models: [
    {
      slug: 'emu-coder', display_name: 'emu-coder', description: 'Model-API emulator', supports_reasoning_summaries: false,
      support_verbosity: false, default_verbosity: null, apply_patch_tool_type: 'freeform', input_modalities: ['text'],
      truncation_policy: { mode: 'tokens', limit: 10000 }, supports_parallel_tool_calls: false, context_window: 200000,
      reasoning_summary_format: 'none', default_reasoning_level: 'medium',
      supported_reasoning_levels: [{ effort: 'low', description: 'low' }, { effort: 'medium', description: 'medium' }, { effort: 'high', description: 'high' }],
      shell_type: 'shell_command', visibility: 'list', minimal_client_version: '0.0.1', supported_in_api: true, upgrade: null,
      priority: 0, base_instructions: 'You are a coding agent served by an emulator.', experimental_supported_tools: [],
    },
  ],
};

export interface EngineHarness {
  engine: RealEngine;
  emu: ModelApiEmulator;
  worktree: string;
  home: string;
  sinks: ReturnType<typeof recordingSinks>;
  /** The Linear emulator the run's progress is posted to (kai's real Linear progress sink). */
  linear: Rig;
  /** Pids the activity heartbeated (the engine's process group leader). */
  pids: number[];
  run(over?: Partial<EngineRunInput>): Promise<EngineRunResult>;
  /** The MockActivityEnvironment of the last run (cancel it to stop). */
  env: MockActivityEnvironment;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: Partial<Omit<ModelApiOptions, 'scenario'>>;
  /** Leave the credential out of the engine's environment. */
  noCredential?: boolean;
  engineConfig?: Record<string, unknown>;
}

/** kai's configuration and environment for one real CLI pointed at the emulator. */
export async function startHarness(engine: RealEngine, opts: HarnessOptions = {}): Promise<EngineHarness> {
  const bin = ensureEngine(engine);
  const tmp = tempDir(`kai-real-${engine}-`);
  const worktree = path.join(tmp.dir, 'wt');
  const home = path.join(tmp.dir, 'home');
  mkdirSync(worktree);
  mkdirSync(home);
  execFileSync('git', ['init', '-q', worktree]);
  const emu = await startModelApi({ scenario: scenario(worktree), apiKey: EMU_KEY, ...opts.emulator });
  const key = opts.noCredential ? {} : undefined;
  const env: Record<string, string> = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'), XDG_CACHE_HOME: path.join(home, '.cache'), XDG_STATE_HOME: path.join(home, '.local', 'state') };
  let args: string[] = [];
  let model: string;
  switch (engine) {
    case 'codex': {
      const catalog = path.join(home, 'emu-catalog.json');
      writeFileSync(catalog, JSON.stringify(CODEX_CATALOG));
      env.CODEX_HOME = path.join(home, '.codex');
      mkdirSync(env.CODEX_HOME);
      if (!key) env.KAI_EMU_KEY = EMU_KEY;
      args = [
        '-c', `model_catalog_json="${catalog}"`,
        '-c', 'model_provider=emu',
        '-c', `model_providers.emu={name="emu",base_url="${emu.url}/v1",env_key="KAI_EMU_KEY",wire_api="responses",stream_max_retries=10,request_max_retries=0}`,
      ];
      model = 'emu-coder';
      break;
    }
    case 'claude': {
      env.ANTHROPIC_BASE_URL = emu.url;
      if (!key) env.ANTHROPIC_API_KEY = EMU_KEY;
      env.CLAUDE_CONFIG_DIR = path.join(home, '.claude');
      env.DISABLE_TELEMETRY = '1';
      env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
      env.DISABLE_AUTOUPDATER = '1';
      model = 'claude-sonnet-4-5';
      break;
    }
    case 'opencode': {
      const config = {
        $schema: 'https://opencode.ai/config.json',
        autoupdate: false,
        share: 'disabled',
        provider: {
          emu: {
            npm: '@ai-sdk/openai-compatible',
            name: 'Model-API emulator',
            options: { baseURL: `${emu.url}/v1`, ...(key ? {} : { apiKey: EMU_KEY }) },
            models: { 'emu-coder': { name: 'emu-coder', tool_call: true, limit: { context: 200000, output: 8192 } } },
          },
        },
      };
      env.OPENCODE_CONFIG_CONTENT = JSON.stringify(config);
      env.OPENCODE_DISABLE_AUTOUPDATE = '1';
      env.OPENCODE_DISABLE_MODELS_FETCH = '1';
      model = 'emu/emu-coder';
      break;
    }
  }
  const config = makeConfig({ engines: { [engine]: { binary: bin, args, env, model, ...opts.engineConfig } } });
  const sinks = recordingSinks();
  const linear = await startRig();
  const toLinear = createLinearProgress({ linear: linear.linear, transport: { plan_coalesce_s: 0.05, ephemeral_activity_coalesce_s: 0.05 } });
  // Every event goes to kai's Linear progress sink (posted to the emulator) and is recorded.
  const progress: ProgressSinkFactory = (run) => {
    const real = toLinear({ agentSessionId: linear.sessionId, issueId: linear.issueId });
    const recorded = sinks.factory(run);
    return {
      emit: (e) => {
        recorded.emit(e);
        real.emit(e);
      },
      close: async () => {
        await recorded.close();
        await real.close();
      },
      discard: async () => {
        await recorded.discard();
        await real.discard();
      },
    };
  };
  const pids: number[] = [];
  // The machine's node may be 20; the launchers put .tools/node/bin first for the CLIs that need 22+.
  const acts = createEngineActivities({
    config,
    progress,
    env: { PATH: `${NODE24_BIN}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`, LANG: 'C.UTF-8' },
    killGraceMs: 500,
  });
  const harness: EngineHarness = {
    engine,
    emu,
    worktree,
    home,
    sinks,
    linear,
    pids,
    env: new MockActivityEnvironment(),
    run: (over = {}) => {
      harness.env = new MockActivityEnvironment();
      harness.env.on('heartbeat', (d: unknown) => {
        const pid = (d as { pid?: number } | undefined)?.pid;
        if (pid && !pids.includes(pid)) pids.push(pid);
      });
      const input: EngineRunInput = {
        engine,
        model,
        prompt: 'Write hello.txt, run the check and keep a plan. KAI-EMU-TASK',
        cwd: worktree,
        agentSessionId: 'as-real',
        issueId: 'issue-real',
        issueIdentifier: 'ENG-1',
        ...over,
      };
      return harness.env.run(acts.engineRun, input) as Promise<EngineRunResult>;
    },
    cleanup: async () => {
      await emu.close();
      await linear.emulator.stop();
      tmp.cleanup();
    },
  };
  return harness;
}
