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
import type { EngineActivities, FilesActivities, KaiActivities, LinearActivities, LinearElicitation } from '../contracts/activities';
import { unavailableActivities } from '../activities/unavailable';
import type { ProgressSinkFactory } from '../activities/engine/events';
import type { KaiConfig } from '../config/schema';
import { linearTokensIfConfigured, type LinearTokenProvider } from '../config/linear-auth';

export interface WiredActivities {
  activities: KaiActivities;
  /** Undefined when no Linear credentials are configured (the Linear activities then fail loudly). */
  linear?: LinearGateway;
  tokens?: LinearTokenProvider;
}

const LINEAR_ACTIVITY_NAMES: Array<keyof (LinearActivities & LinearElicitation)> = [
  'linearAcknowledge',
  'linearLoadIssue',
  'linearUpdateSession',
  'linearPostFinal',
  'linearTransitionIssue',
  'linearLinkPullRequest',
  'linearRecordOutcome',
  'linearElicit',
  'linearRecordRepository',
];

export function createKaiActivities(config: KaiConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): WiredActivities {
  const { tokens, missing: missingCredentials } = linearTokensIfConfigured(config, { env });

  const linear = tokens
    ? createLinearGateway({
        apiUrl: config.linear.api_url,
        accessToken: tokens,
        requestsPerHour: config.limits.linear_requests_per_hour,
        logger,
      })
    : undefined;

  const linearActivities: LinearActivities & LinearElicitation = linear
    ? createLinearActivities({ linear, transport: config.transports.linear, plugin: config.plugins.linear, logger })
    : unavailableActivities<LinearActivities & LinearElicitation>(LINEAR_ACTIVITY_NAMES, missingCredentials!);

  const progress: ProgressSinkFactory = linear
    ? createLinearProgress({ linear, transport: config.transports.linear, logger })
    : () => ({ emit() {}, async close() {}, async discard() {} });

  const engine: EngineActivities = createEngineActivities({ config, progress, logger, env, dataDir: dataDirFrom(env) });
  const git = createGitActivities({ config, logger, env });

  let files: FilesActivities;
  if (linear) {
    files = createFilesActivities({
      config,
      logger,
      uploader: createLinearUploader(linear),
      token: { accessToken: () => linear.accessToken() },
    });
  } else {
    files = unavailableActivities<FilesActivities>(['filesDownloadAttachments', 'filesCommand'], missingCredentials!);
  }

  return { activities: { ...linearActivities, ...engine, ...git, ...files }, linear, tokens };
}
