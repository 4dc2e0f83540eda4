// Shared setup for the Linear activity tests: an emulator on a free loopback port with the
// standard workspace, a gateway speaking to it through the real SDK, and a session on the issue.
import { startLinearEmulator, type LinearEmulator, type LinearEmulatorOptions, type RecordedRequest } from '../../../src/emulator/linear';
import { createLinearGateway, type LinearGateway } from '../../../src/activities/linear';

export const TOKEN = 'lin_oauth_test_token_do_not_log';

export interface Rig {
  emulator: LinearEmulator;
  linear: LinearGateway;
  issueId: string;
  sessionId: string;
}

export async function startRig(opts: LinearEmulatorOptions = {}): Promise<Rig> {
  const emulator = await startLinearEmulator({ host: '127.0.0.1', accessToken: TOKEN, seed: true, ...opts });
  const issueId = emulator.workspace!.issue.id;
  const { session } = await emulator.startSession({ issueId, send: false });
  const linear = createLinearGateway({ apiUrl: emulator.url, accessToken: TOKEN });
  return { emulator, linear, issueId, sessionId: session.id };
}

/** Reads the request log over HTTP, as the demo and benchmarks do. */
export async function requestLog(emulator: LinearEmulator): Promise<RecordedRequest[]> {
  const res = await fetch(`${emulator.baseUrl}/_emulator/requests`);
  return ((await res.json()) as { requests: RecordedRequest[] }).requests;
}

export { sleep } from '../../../src/util';
