// Metrics, operations endpoints, the Temporal Runtime and logging setup.
export * from './metrics';
export * from './http';
export * from './temporal-runtime';
export * from './logging';
