// Builds every activity group from the configuration: the one place where Linear, engines,
// git/GitHub and files are wired together for a worker.
import type { Logger } from 'pino';
import { createEngineActivities } from '../activities/engine';
import { createFilesActivities } from '../activities/files';
import { createGitActivities } from '../activities/git';
import { dataDirFrom } from '../activities/git/projects';
import {
  createLinearActivities,
  createLinearGateway,
  createLinearProgress,
  createLinearUploader,
  type LinearGateway,
} from '../activities/linear';
import type { EngineActivities, FilesActivities, KaiActivities, LinearActivities } from '../activities/types';
import { unavailableActivities } from '../activities/unavailable';
import type { ProgressSinkFactory } from '../activities/engine/events';
import type { KaiConfig } from '../config/schema';
import { createLinearTokenProvider, LinearAuthError, type LinearTokenProvider } from '../config/linear-auth';

export interface WiredActivities {
  activities: KaiActivities;
  /** Undefined when no Linear credentials are configured (the Linear activities then fail loudly). */
  linear?: LinearGateway;
  tokens?: LinearTokenProvider;
}

const LINEAR_ACTIVITY_NAMES: Array<keyof LinearActivities> = [
  'linearAcknowledge',
  'linearLoadIssue',
  'linearUpdateSession',
  'linearPostFinal',
  'linearTransitionIssue',
  'linearLinkPullRequest',
  'linearRecordOutcome',
];

export function createKaiActivities(config: KaiConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): WiredActivities {
  let tokens: LinearTokenProvider | undefined;
  let missingCredentials: string | undefined;
  try {
    tokens = createLinearTokenProvider(config, { env });
  } catch (err) {
    if (!(err instanceof LinearAuthError)) throw err;
    missingCredentials = err.message;
  }

  const linear = tokens
    ? createLinearGateway({
        apiUrl: config.linear.api_url,
        accessToken: tokens,
        requestsPerHour: config.limits.linear_requests_per_hour,
        logger,
      })
    : undefined;

  const linearActivities: LinearActivities = linear
    ? createLinearActivities({ linear, transport: config.transports.linear, plugin: config.plugins.linear, logger })
    : unavailableActivities<LinearActivities>(LINEAR_ACTIVITY_NAMES, missingCredentials!);

  const progress: ProgressSinkFactory = linear
    ? createLinearProgress({ linear, transport: config.transports.linear, logger })
    : () => ({ emit() {}, async close() {} });

  const engine: EngineActivities = createEngineActivities({ config, progress, logger, env, dataDir: dataDirFrom(env) });
  const git = createGitActivities({ config, logger, env });

  let files: FilesActivities;
  if (linear) {
    const uploader = createLinearUploader(linear);
    files = createFilesActivities({
      config,
      logger,
      uploader: { upload: (filename, contentType, data) => uploader.upload({ data, filename, contentType }) },
      token: { accessToken: () => linear.accessToken() },
    });
  } else {
    files = unavailableActivities<FilesActivities>(['filesDownloadAttachments', 'filesCommand'], missingCredentials!);
  }

  return { activities: { ...linearActivities, ...engine, ...git, ...files }, linear, tokens };
}
