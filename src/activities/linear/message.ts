// The message fitting kai's Linear activities use lives with the domain types: the workflow
// needs the same split to know how many activity ids a final message takes.
export { fitMessage, splitMessage, trimMessage, toUnits, messageParts, DEFAULT_MAX_BODY_CHARS } from '../../domain/message-parts';
