// Runs a TypeScript file in a child process (the crash test's worker) from the same sources.
require('../../scripts/ts-register');
require(require('node:path').resolve(process.argv[2]));
