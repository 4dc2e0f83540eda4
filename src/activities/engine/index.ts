export { createEngineActivities, defaultScriptEdits, isResumeLost, RESUME_LOST_LINE, DEFAULT_MAX_RECONNECTS, type EngineActivitiesDeps } from './activities';
export { runEngineStream, EngineSpawnError, type EngineProcessSpec, type EngineStreamOutcome, type RunStreamOptions } from './run-stream';
export { ENGINE_NAMES, CLAUDE_ALLOWED_TOOLS, CLAUDE_EFFORT, CODEX_SANDBOXES, buildInvocation, createParser, isEngineName, type EngineName } from './registry';
export type { Invocation } from './invocations';
export { resolveEngine, buildPrompt } from './resolve';
export { parseTitle, labelDirectives, extractDirectives } from '../../domain/directives';
export type { EngineEvent, ProgressSink, ProgressSinkFactory } from './events';
export type { EngineHeartbeatDetails } from './heartbeat';
export type { ScriptEdit } from './script';
