#!/usr/bin/env node
// kai's command. Runs the compiled code in dist/ (npm install builds it); in a checkout without
// a build it compiles the TypeScript sources on the fly.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
if (existsSync(built)) {
  cli = require(built);
} else {
  require('../scripts/ts-register');
  cli = require('../src/cli/main.ts');
}
cli.warnIfEndOfLifeNode?.();
cli.main();
