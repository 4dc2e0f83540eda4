// `kai gateway` and `kai ingest`: the events-table adapters over src/ingress.
export { migrate, MIGRATIONS, SEED_EVENTS_DDL, EVENTS_CHANNEL, type MigrateResult } from './migrations';
export { createGatewayHandler, createGatewayApp, gatewayDepsFromConfig, startGatewayServer, GATEWAY_SOURCE, type GatewayDeps, type NodeHandler } from './gateway';
export { startIngester, ingesterDepsFromConfig, type Ingester, type IngesterDeps, type IngesterStats } from './ingester';
export { EventsTable } from './events-table';
export { readEventRow, storableAsJsonb, rawPayload, RAW_BODY_KEY, type EventRow } from './rows';
