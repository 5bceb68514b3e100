import { z } from 'zod';

/**
 * Preloaded into the workflow sandbox (`worker/workflow-bundle.ts`), so zod's modules are evaluated once per
 * worker thread instead of once per run. zod writes its global config (the English locale, its memoizer) when
 * the first schema is built (the memoizer with the first object); the SDK deep-freezes what preloading left on
 * `globalThis`, so an object schema is built here, before the freeze, and no run writes to the frozen config.
 */
export const zodConfigured = z.object({ configured: z.boolean() }).safeParse({ configured: true }).success;
