export { migrate, MIGRATIONS, SEED_EVENTS_DDL, EVENTS_CHANNEL, type MigrateResult } from './migrations';
export { createGatewayHandler, createGatewayApp, mountGateway, startGatewayServer, GATEWAY_SOURCE, type GatewayDeps, type NodeHandler } from './gateway';
export { startIngester, ingesterDepsFromConfig, type Ingester, type IngesterDeps, type IngesterStats } from './ingester';
export { readEventRow, type EventRow } from './rows';
