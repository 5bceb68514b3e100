/**
 * What the worker bundles as workflow code, shared with the tests that run or replay it, so they run the code
 * exactly as the worker does.
 *
 * Preloaded modules keep no per-run state and are loaded once per worker thread instead of once per run: the
 * workflow sandbox gives every run its own module state, and building the Ed25519 curve's table again cost each
 * run's first workflow task tens of milliseconds. The signature module brings noble's curve and hashes with it.
 * Only modules of ours are listed: the bundler resolves a bare package name from its own entry file, and drops a
 * `require` of a package without side effects whose value goes unused, so `zod` or `@noble/…` here would preload
 * nothing (`0;` in the bundle). zod comes through `workflows/zod-runtime`, which builds a first schema before the
 * SDK deep-freezes what preloading left on `globalThis`: zod writes its global config on the first schema built,
 * and preloaded without that it failed every run (`Cannot add property localeError, object is not extensible`).
 * No module that exports zod schemas may be preloaded: zod defines properties on a schema lazily, and a frozen
 * schema refuses them (the kind registry: `Cannot define property parse`).
 */
export const WORKFLOW_CODE = {
  workflowsPath: require.resolve('../workflows'),
  /** `bundleWorkflowCode({ preloadModules })`; a Worker that bundles itself takes `bundlerOptions.preloadModules`. */
  preloadModules: [require.resolve('../workflows/zod-runtime'), require.resolve('../auth/signature')],
};
