// What one benchmark run produces: the figures of every scenario and the machine they ran on.
// Kept apart from index.ts so the table and the runner both import it without a cycle.
import type { AcceptanceResult } from './scenarios/acceptance';
import type { CeilingResult } from './scenarios/ceiling';
import type { LatencyResult } from './scenarios/latency';
import type { HistoryRow, RequestsResult } from './scenarios/sessions';
import type { SpreadResult } from './scenarios/spread';
import type { StopResult } from './scenarios/stop';
import type { WorkerResult } from './scenarios/worker';

export interface BenchResults {
  meta: {
    startedAt: string;
    seconds: number;
    quick: boolean;
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    temporal: string;
  };
  ackLatency: LatencyResult;
  acceptance: AcceptanceResult;
  linearRequests: RequestsResult;
  historyEvents: HistoryRow[];
  worker: WorkerResult;
  spread: SpreadResult;
  ceiling: CeilingResult;
  stop: StopResult;
}
