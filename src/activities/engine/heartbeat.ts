// Typed heartbeat details of an engine run. A retried attempt reads the last ones back to
// resume the engine's conversation instead of starting over, and to end the failed attempt's
// processes if they outlived their worker.
import { parseRunHandle, type EngineRunHandle } from './process-group';

export interface EngineHeartbeatDetails {
  engine: string;
  pid?: number;
  /** Events seen so far in this attempt. */
  events: number;
  lastEventType?: string;
  /** The engine's resume token, once it has announced one. */
  resumeToken?: string;
  startedAt: number;
  /** The attempt's engine run (run id, process group, cgroup). */
  run?: EngineRunHandle;
}

export function readHeartbeatDetails(value: unknown): EngineHeartbeatDetails | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.engine !== 'string' || typeof v.events !== 'number') return undefined;
  return {
    engine: v.engine,
    events: v.events,
    startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0,
    pid: typeof v.pid === 'number' ? v.pid : undefined,
    lastEventType: typeof v.lastEventType === 'string' ? v.lastEventType : undefined,
    resumeToken: typeof v.resumeToken === 'string' ? v.resumeToken : undefined,
    run: parseRunHandle(v.run),
  };
}
