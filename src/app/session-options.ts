import type { KaiConfig } from '../config/schema';
import type { SessionOptions } from '../workflows/session';

/** The options every new session workflow starts with, from the configuration. */
export function sessionOptionsFromConfig(config: KaiConfig, engineTaskQueue?: string): Partial<SessionOptions> {
  const limits = config.limits;
  // The engine activity enforces each engine's own cap and returns a clean failure; Temporal's
  // timeout sits above the longest cap so it only fires when a worker died mid-run.
  const longestCapS = Math.max(limits.engine_timeout_s, ...Object.values(config.engines).map((e) => e.timeout_s ?? 0));
  return {
    idleTimeoutMs: limits.idle_timeout_s * 1000,
    engineTimeoutMs: (longestCapS + 300) * 1000,
    engineHeartbeatTimeoutMs: limits.engine_heartbeat_timeout_s * 1000,
    webUiBaseUrl: config.temporal.web_ui_url,
    cleanupWorktreeOnEnd: config.workspace.cleanup_on_end,
    engineTaskQueue,
    holderStartTimeoutMs: limits.holder_start_timeout_s * 1000,
    engineStartTimeoutMs: limits.engine_start_timeout_s * 1000,
  };
}
