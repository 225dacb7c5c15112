/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  // The 60 s soak under faults exceeded its 600 s budget in CI on 2026-11-28 (10:50, after the workflow rewrite):
  // until that is understood it runs on its own with `npm run test:soak`, not in the default suite.
  testPathIgnorePatterns: process.env.SOAK_TEST ? ['/node_modules/'] : ['/node_modules/', '/test/soak/'],
};
