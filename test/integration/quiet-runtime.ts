import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Keeps worker chatter (state changes, polls) out of test output; warnings and errors still show. */
export function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier test file in this process: the first install wins.
  }
}
