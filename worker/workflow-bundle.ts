/**
 * What the worker bundles as workflow code, shared with the tests that run or replay it, so they run the code
 * exactly as the worker does.
 *
 * Preloaded modules keep no per-run state and are loaded once per worker thread instead of once per run: the
 * workflow sandbox gives every run its own module state, and loading zod and building the Ed25519 curve's table
 * again cost each run's first workflow task tens of milliseconds. The SDK deep-freezes what a preloaded module
 * exports, so no module that exports zod schemas may be preloaded: zod defines some of a schema's properties on
 * first use, which a frozen schema refuses (tried with the kind registry: `Cannot define property parse`).
 */
export const WORKFLOW_CODE = {
  workflowsPath: require.resolve('../workflows'),
  /** `bundleWorkflowCode({ preloadModules })`; a Worker that bundles itself takes `bundlerOptions.preloadModules`. */
  preloadModules: [
    'zod',
    '@noble/curves/ed25519',
    '@noble/hashes/sha2',
    '@noble/hashes/utils',
    require.resolve('../auth/signature'),
  ],
};
