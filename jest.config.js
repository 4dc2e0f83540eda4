/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // ESM-only packages jest must compile to CommonJS (Node itself loads them with require()).
  transformIgnorePatterns: [
    '/node_modules/(?!(@linear/sdk|@octokit|universal-user-agent|before-after-hook|fast-content-type-parse|json-with-bigint|content-type|archiver|zip-stream|compress-commons|crc32-stream|is-stream)/)',
  ],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  // Temporal's native runtime and the deliberately unreachable clients of the 503 tests keep
  // handles alive after the last test; every test stops its own servers and processes.
  forceExit: true,
};
