// Runs a TypeScript file in a child process (the crash test's worker): compiles .ts on require
// with @swc/core, as jest does, so the child runs the same sources as the tests.
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

require(require('node:path').resolve(process.argv[2]));
