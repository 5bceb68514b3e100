import tseslint from 'typescript-eslint';

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
    // The pure half of auth is bundled into workflow code: no Node built-ins, no file access (auth/io has those).
    files: ['auth/*.ts', 'workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', '**/auth/io/*', './io/*'],
              message: 'workflow-safe code: no Node built-ins or auth/io (do I/O in an activity)',
            },
          ],
        },
      ],
    },
  },
);
