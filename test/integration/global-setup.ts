import buildDrctl from '../build-drctl';
import { ensureStackUp } from '../../sandbox/stack';

/**
 * Jest global setup for the integration project: makes sure the whole local stack runs and is seeded before
 * any test reads `.sandbox/stack.json`. Fast (about a second) when `npm run sandbox -- up` already ran; the first
 * start from nothing takes about 20 s (Unleash migrations).
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // The end-to-end tests run bin/drctl, which runs the prebuilt JavaScript: build it if a source is newer.
  buildDrctl();
  const timeoutMs = 300_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `sandbox did not come up within ${timeoutMs / 1000} s: run \`npm run sandbox -- up\` to see which server hangs`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([
      ensureStackUp({ log: (line) => process.stderr.write(`[sandbox] ${line}\n`) }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  process.stderr.write(`[sandbox] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
