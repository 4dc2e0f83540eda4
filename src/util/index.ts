export { sleep, TimeoutError, withTimeout, type TimeoutOptions } from './async';
export { systemClock, type Clock, type Timer } from './clock';
export { errorText, type ErrorTextOptions } from './errors';
export { runCommand, type CommandResult } from './run-command';
