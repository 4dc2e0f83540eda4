export { startModelApi, type ModelApiEmulator, type ModelApiOptions, type ModelApiRequest, type Scenario } from './server';
export { TASK_MARKER, FOLLOWUP_MARKER, nextStep, type Transcript, type ScenarioStep } from './script';
