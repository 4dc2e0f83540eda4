// Lets Node require TypeScript sources directly (compiled with @swc/core, as jest does): for
// child processes in tests and for running kai from a checkout without `npm run build`.
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const swc = require('@swc/core');

Module._extensions['.ts'] = function compileTs(module, filename) {
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};
