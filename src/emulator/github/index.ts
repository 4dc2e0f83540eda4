export { startGitHubEmulator, type GitHubEmulator, type GitHubEmulatorOptions, type GitHubEmulatorState, type EmulatedPull, type EmulatedRepo, type RecordedRequest } from './server';
