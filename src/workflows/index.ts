// The workflow bundle's entry point: every workflow the worker registers.
export { issueSessionWorkflow } from './session';
