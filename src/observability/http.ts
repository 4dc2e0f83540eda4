// HTTP endpoints for operations: /metrics (Prometheus text), /healthz (the process is alive)
// and /readyz (it can do its job: connected to Temporal, not draining). The webhook mounts the
// handlers on its own app; the worker and ingester, which serve no other HTTP, use startOpsServer.
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { kaiMetrics } from './metrics';

export function metricsHandler(registry: Registry = kaiMetrics().registry): RequestHandler {
  return async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.setHeader('content-type', registry.contentType);
      res.status(200).send(body);
    } catch (err) {
      res.status(500).type('text/plain').send(`metrics collection failed: ${(err as Error).message}\n`);
    }
  };
}

/** What a readiness check may answer: a plain verdict, or a verdict with the details behind it
 *  (served as JSON, so an operator sees *why* a process is not ready). */
export interface ReadinessReport {
  ready: boolean;
  [detail: string]: unknown;
}

export type ReadinessCheck = () => boolean | ReadinessReport | Promise<boolean | ReadinessReport>;

/** Liveness: answers while the event loop runs. */
export const healthzHandler: RequestHandler = (_req, res) => {
  res.status(200).type('text/plain').send('ok\n');
};

/** Readiness: 200 while `ready()` holds, 503 otherwise (draining on SIGTERM, not connected).
 *  A report is sent as JSON; a plain boolean as text. A check that throws is not ready. */
export function readyzHandler(ready: ReadinessCheck): RequestHandler {
  return async (_req, res) => {
    let verdict: boolean | ReadinessReport = false;
    try {
      verdict = await ready();
    } catch {
      verdict = false;
    }
    if (typeof verdict === 'object' && verdict !== null) {
      res.status(verdict.ready ? 200 : 503).json(verdict);
      return;
    }
    res.status(verdict ? 200 : 503).type('text/plain').send(verdict ? 'ready\n' : 'not ready\n');
  };
}

export interface OpsServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  registry?: Registry;
  ready?: ReadinessCheck;
}

export interface OpsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsHandler(opts.registry));
  app.get('/healthz', healthzHandler);
  app.get('/readyz', readyzHandler(opts.ready ?? (() => true)));
  // Loopback unless configured otherwise: metrics and readiness are for this host's scraper.
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(opts.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
