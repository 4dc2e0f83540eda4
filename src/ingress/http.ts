// HTTP shared by the webhook server and the gateway: one server factory with the same limits
// (so a slow client is cut off in seconds, not held for half a minute, and connections are
// capped), one express app with the delivery route and the ops endpoints behind their guard,
// and small response helpers.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { healthzHandler, metricsHandler, readyzHandler, type ReadinessCheck } from '../observability/http';

export interface ServerLimits {
  /** Whole headers must arrive within this (default 5 s). */
  headersTimeoutMs?: number;
  /** The whole request, body included, within this (default 10 s; Linear waits 5 s for an answer). */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** Open connections at most; further ones are closed at once (default 512). */
  maxConnections?: number;
}

export const DEFAULT_SERVER_LIMITS: Required<ServerLimits> = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
};

/** A Node HTTP server that enforces the limits. Node checks its header and request timeouts
 *  only every `connectionsCheckingInterval` (30 s by default), which let a slow-loris client
 *  hold a socket for 27-37 s: the check runs here at a fraction of the shortest timeout. */
export function createIngressServer(handler: RequestListener, limits: ServerLimits = {}): Server {
  const l = { ...DEFAULT_SERVER_LIMITS, ...limits };
  const headersTimeout = Math.min(l.headersTimeoutMs, l.requestTimeoutMs);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    handler,
  );
  server.maxConnections = l.maxConnections;
  return server;
}

/** Whether a peer address is this host (IPv4, IPv6 or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Whether /metrics and /readyz may answer non-loopback peers: only when `[metrics] host` was
 *  configured to a non-loopback address (deploy/ sets 0.0.0.0 for the cluster's probes). */
export function opsExposed(metricsHost: string | undefined): boolean {
  if (!metricsHost) return false;
  return !(metricsHost === 'localhost' || isLoopback(metricsHost));
}

/** Lets /metrics and /readyz answer only loopback peers unless they are exposed. */
export function opsOnly(exposed: boolean): RequestHandler {
  return (req, res, next) => {
    if (exposed || isLoopback(req.socket.remoteAddress)) return next();
    res.status(404).type('text/plain').send('Not found');
  };
}

export interface AdapterAppOptions {
  /** Where Linear POSTs; every method reaches `handler`, which answers 405 to the others. */
  path: string;
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** What /readyz reports. */
  ready: ReadinessCheck;
  registry: Registry;
  /** Serve /readyz and /metrics to any peer; otherwise only to loopback. */
  exposeOps: boolean;
}

/** An ingress adapter as an express app: /healthz, /readyz and /metrics, the delivery route, and
 *  404 for the rest. */
export function adapterApp(opts: AdapterAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', healthzHandler);
  app.get('/readyz', opsOnly(opts.exposeOps), readyzHandler(opts.ready));
  app.get('/metrics', opsOnly(opts.exposeOps), metricsHandler(opts.registry));
  app.all(opts.path, (req, res) => opts.handler(req, res));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  return app;
}

export function sendText(req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (!req.complete) {
    // The rest of the body is not wanted: close instead of draining it.
    res.setHeader('Connection', 'close');
    res.once('finish', () => setTimeout(() => req.socket?.destroy(), 200).unref());
  }
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (a wildcard host is shown as 127.0.0.1). */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(server: Server, host: string, port: number): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
