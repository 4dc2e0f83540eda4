// kai's configuration: schema, loading, masking, `config check` and Linear credentials.
export * from './schema';
export { ConfigError } from './errors';
export {
  CONFIG_ENV_VAR,
  CONFIG_FILE_NAME,
  ENV_OVERRIDES,
  loadConfig,
  readConfig,
  resolveConfigPath,
  validateConfig,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load';
export { maskSecrets, isSecretKey, secretValues, MASK } from './secrets';
export { configCheck, type ConfigCheckOptions, type ConfigCheckResult } from './check';
