// Runs the real `kai` command from the TypeScript sources (never a stale dist/): the multi-pod
// test's webhook pods are `kai webhook` processes started this way.
require('../../scripts/ts-register');
require('../../src/cli/main.ts').main();
