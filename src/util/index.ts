export { sleep, TimeoutError, withTimeout, type TimeoutOptions } from './async';
export { errorText, type ErrorTextOptions } from './errors';
