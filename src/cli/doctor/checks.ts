// The checks `kai doctor` runs, in the order it prints them. To add one, write it in its own file
// as a DoctorCheck (see ./check.ts) and list it here.
import type { DoctorCheck } from './check';
import { engineReadinessCheck } from './engine-readiness';
import { enginesCheck } from './engines';
import { githubCheck } from './github';
import { linearCheck } from './linear';
import { postgresCheck } from './postgres';
import { repositoriesCheck } from './repositories';
import { temporalCheck } from './temporal';
import { webhookSecretCheck } from './webhook-secret';

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  temporalCheck,
  linearCheck,
  webhookSecretCheck,
  enginesCheck,
  engineReadinessCheck,
  repositoriesCheck,
  githubCheck,
  postgresCheck,
];
