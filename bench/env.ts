// The environment a bench worker runs with: no Linear or GitHub credentials (the emulators' own
// must win) and no TEMPORAL_* overrides (the bench's configuration names its Temporal server,
// namespace and task queue).
export function benchWorkerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.LINEAR_OAUTH_TOKEN;
  delete copy.GITHUB_TOKEN;
  for (const name of Object.keys(copy)) if (name.startsWith('TEMPORAL_')) delete copy[name];
  return copy;
}
