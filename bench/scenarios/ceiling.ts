// 7. The server's own ceiling: raw signal-with-start calls from a bare Temporal client (its own
// connection, none of kai's code) to the same server, at the acceptance scenario's concurrency
// levels, each call a new workflow id with a signal argument about the size of a Linear
// delivery. No worker polls the task queue; the workflows are terminated afterwards. The table
// prints kai's webhook acceptance and ingester claims as a ratio to these figures.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { BenchContext } from '../context';
import { round, runPool } from '../stats';

export interface CeilingLevel {
  concurrency: number;
  calls: number;
  perSecond: number;
  /** Calls the server refused. */
  failed: number;
}

export interface CeilingResult {
  levels: CeilingLevel[];
}

export interface CeilingOptions {
  calls: number;
  concurrency: number[];
}

/** About the size of an AgentSessionEvent `created` body, which kai passes as its signal argument. */
const PAYLOAD = { type: 'AgentSessionEvent', action: 'created', body: 'x'.repeat(3000) };

export async function benchCeiling(ctx: BenchContext, opts: CeilingOptions): Promise<CeilingResult> {
  const connection = await Connection.connect({ address: ctx.temporalAddress });
  const client = new Client({ connection, namespace: ctx.namespace });
  const taskQueue = `bench-raw-${randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  try {
    const levels: CeilingLevel[] = [];
    for (const c of opts.concurrency) {
      const level = Array.from({ length: opts.calls }, () => `bench-raw-${randomUUID()}`);
      ids.push(...level);
      let failed = 0;
      const started = process.hrtime.bigint();
      await runPool(level.length, c, async (i) => {
        await client.workflow
          .signalWithStart('benchRawCeiling', { taskQueue, workflowId: level[i]!, signal: 'delivery', signalArgs: [PAYLOAD] })
          .catch(() => void failed++);
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      levels.push({ concurrency: c, calls: level.length, perSecond: round(level.length / seconds), failed });
    }
    return { levels };
  } finally {
    await runPool(ids.length, 16, async (i) => {
      await client.workflow
        .getHandle(ids[i]!)
        .terminate('benchmark finished')
        .catch(() => undefined);
    });
    await connection.close();
  }
}
