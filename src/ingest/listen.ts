// The ingester's LISTEN loop: one dedicated connection waits for the insert trigger's NOTIFY and
// wakes the claim loop; it reconnects with backoff after a lost connection (Postgres restart),
// and wakes the claim loop once more after each (re)connect for whatever arrived meanwhile.
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { backoff, type Sleeper } from './waiting';
import { EVENTS_CHANNEL } from './migrations';
import { errorText } from '../util';

export interface ListenOptions {
  pool: Pool;
  source: string;
  logger: Logger;
  /** Called on every NOTIFY for this source and after each (re)connect. */
  wake: () => void;
  /** Resolves when the ingester stops. */
  stopped: Promise<void>;
  isStopped: () => boolean;
  sleeper: Sleeper;
  /** Reports whether a LISTEN is in place (for stats and /readyz). */
  setListening: (listening: boolean) => void;
}

export async function listenLoop(o: ListenOptions): Promise<void> {
  let failures = 0;
  while (!o.isStopped()) {
    let client: PoolClient | undefined;
    try {
      client = await o.pool.connect();
      const c = client;
      const lost = new Promise<Error>((resolve) => {
        c.on('error', resolve);
        c.on('end', () => resolve(new Error('the connection ended')));
      });
      c.on('notification', (msg) => {
        if (msg.channel === EVENTS_CHANNEL && (!msg.payload || msg.payload === o.source)) o.wake();
      });
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      failures = 0;
      o.setListening(true);
      o.logger.debug('Listening for new events');
      o.wake(); // whatever arrived while not listening
      const err = await Promise.race([lost, o.stopped.then(() => undefined)]);
      o.setListening(false);
      if (!err) {
        await c.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
        c.release();
        return;
      }
      o.logger.warn({ error: err.message }, 'Lost the LISTEN connection; reconnecting');
      c.release(err);
    } catch (err) {
      o.setListening(false);
      client?.release(err instanceof Error ? err : new Error(String(err)));
      o.logger.warn({ error: errorText(err) }, 'Could not LISTEN for events; polling meanwhile');
    }
    await o.sleeper.sleep(backoff(failures++, 250, 10_000));
  }
}
