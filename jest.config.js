/** Two projects: fast unit tests (fakes behind the ports) and integration tests (the real local stack). */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/** @type {import('jest').Config} */
module.exports = {
  // Some unit tests start bin/drctl (tsx, a second Node): seconds on a busy 2-core CI machine, not 5 s. Global:
  // jest-circus reads only the global testTimeout. The integration project raises it in its setup file.
  testTimeout: 30_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      globalSetup: '<rootDir>/test/build-drctl.ts',
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      setupFilesAfterEnv: [
        '<rootDir>/test/integration/integration-timeout.ts',
        '<rootDir>/test/integration/end-open-runs.ts',
      ],
    },
  ],
};
