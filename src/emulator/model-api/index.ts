export { startModelApi, type ModelApiEmulator, type ModelApiOptions, type ModelApiRequest } from './server';
export { TASK_MARKER, FOLLOWUP_MARKER, nextStep, type Scenario, type Transcript, type ScenarioStep } from './script';
