export { createEngineActivities, defaultScriptEdits, type EngineActivitiesDeps } from './activities';
export { runEngineStream, EngineSpawnError, type EngineProcessSpec, type EngineStreamOutcome, type RunStreamOptions } from './run-stream';
export { ENGINE_NAMES, buildInvocation, createParser, isEngineName, type EngineName } from './registry';
export { resolveEngine, buildPrompt } from './resolve';
export { parseTitle, labelDirectives, extractDirectives } from '../../domain/directives';
export type { EngineEvent, ProgressSink, ProgressSinkFactory } from './events';
export type { EngineHeartbeatDetails } from './heartbeat';
export type { ScriptEdit } from './script';
