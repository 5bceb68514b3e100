import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * Code bundled into Temporal workflows: the workflows themselves and the pure halves of step kinds and
 * providers (and what they import). It must be deterministic, so it may not import I/O; activities only as types.
 */
const WORKFLOW_CODE = [
  'workflows/**/*.ts',
  'kinds/step-kind.ts',
  'kinds/registry.ts',
  'kinds/database-targets.ts',
  'kinds/*/definition.ts',
  // What a kind's plan works out in the workflow from one read (dns.switch), and the batching it counts with.
  'kinds/*/planned-changes.ts',
  'kinds/dns-switch/change-batches.ts',
  'providers/database/provider.ts',
  'providers/database/registry.ts',
  'providers/database/*/definition.ts',
  'runbooks/schema.ts',
  'runbooks/schema-parts.ts',
  'runbooks/duration.ts',
  'runbooks/runbook-validation-error.ts',
  'runbooks/failback-unsupported-error.ts',
  'common/**/*.ts',
  'evacuations/evacuation-types.ts',
  'evacuations/run-lock.ts',
  // The pure half of auth (verification inside validators); auth/io has the file access.
  'auth/*.ts',
];

/** Type-aware rules that catch real bugs in async, Temporal-heavy code; formatting is prettier's job. */
export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.sandbox/',
      'sandbox/unleash/',
      'dist/',
      'coverage/',
      'reports-out/',
      'bin/',
      '*.js',
      '*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: WORKFLOW_CODE,
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-nodejs-modules': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@aws-sdk/*',
                'pg',
                'unleash-client',
                '@temporalio/activity',
                '@temporalio/worker',
                '@temporalio/client',
              ],
              message:
                'workflow code is deterministic: I/O belongs in activities (kinds/<kind>/activities.ts)',
            },
            {
              group: [
                '**/activities/**',
                '**/activities',
                '**/kinds/*/activities',
                '**/providers/database/*/strategy',
                '**/providers/database/strategies',
                '**/worker/**',
                '**/sandbox/**',
                '**/cli/**',
                '**/auth/io/*',
                './io/*',
              ],
              allowTypeImports: true,
              message:
                'workflow code may import activities, strategies, the worker and the CLI only as types',
            },
          ],
        },
      ],
    },
  },
);
