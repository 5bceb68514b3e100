/**
 * What the worker bundles as workflow code, shared with the tests that run or replay it, so they run the code
 * exactly as the worker does.
 *
 * Preloaded modules keep no per-run state and are loaded once per worker thread instead of once per run: the
 * workflow sandbox gives every run its own module state, and building the Ed25519 curve's table again cost each
 * run's first workflow task tens of milliseconds. The signature module brings noble's curve and hashes with it.
 * Only modules of ours are listed: the bundler resolves a bare package name from its own entry file, and drops a
 * `require` of a package without side effects whose value goes unused, so `zod` or `@noble/…` here would preload
 * nothing (`0;` in the bundle). zod cannot be preloaded anyway: the SDK deep-freezes what a preloaded module
 * exports, and zod sets its global config on the first schema built (`Cannot add property localeError, object is
 * not extensible`, seen when it was preloaded through a module of ours); for the same reason no module that
 * exports zod schemas may be preloaded (the kind registry: `Cannot define property parse`).
 */
export const WORKFLOW_CODE = {
  workflowsPath: require.resolve('../workflows'),
  /** `bundleWorkflowCode({ preloadModules })`; a Worker that bundles itself takes `bundlerOptions.preloadModules`. */
  preloadModules: [require.resolve('../auth/signature')],
};
