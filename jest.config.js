/** Two projects: fast unit tests (fakes behind the ports) and integration tests (the real local stack). */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      globalSetup: '<rootDir>/test/build-drctl.ts',
      setupFilesAfterEnv: ['<rootDir>/test/unit/unit-timeout.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/integration/integration-timeout.ts'],
    },
  ],
};
