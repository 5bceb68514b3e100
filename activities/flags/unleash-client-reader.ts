import { InMemStorageProvider, Unleash, UnleashEvents } from 'unleash-client';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';

/**
 * What a real SDK client, holding a client (backend) token, evaluates for each flag with an empty context;
 * `null` when the client does not know the flag. The token decides the environment.
 */
export interface UnleashClientReader {
  /**
   * One read by a fresh client. `namePrefix` asks the server for only the flags starting with it: a query of its
   * own, which Unleash caches apart from what applications (and the confirmation) read.
   */
  read(names: string[], options?: { namePrefix?: string }): Promise<Record<string, boolean | null>>;
  /**
   * Watches what one client sees, re-reading every `intervalMs` (conditional requests: the server answers 304
   * until its revision moves), until `until` holds or `timeoutMs` passes. `reads` counts the evaluations.
   */
  watch(
    names: string[],
    until: (seen: Record<string, boolean | null>) => boolean,
    options: { timeoutMs: number; intervalMs?: number },
  ): Promise<{ seen: Record<string, boolean | null>; reads: number; satisfied: boolean }>;
}

/** How often a confirmation re-reads: well under Unleash's once-a-second revision tick. */
export const WATCH_INTERVAL_MS = 50;

export interface UnleashClientReaderOptions {
  /** Base URL of the Unleash server; `/api/` is appended when missing. */
  url: string;
  /** A client (backend) token; its environment is the one read. */
  clientToken: string;
  /** How long to wait for the first synchronisation. Default 10 s. */
  syncTimeoutMs?: number;
  /** The SDK's refresh interval while it runs. Default 1 s. */
  refreshIntervalMs?: number;
  appName?: string;
}

/**
 * Reads flags the way an application would: a fresh SDK client per read (the SDK's singleton refuses a second
 * config), in-memory storage (never "ready" from a stale backup file), no metrics, destroyed afterwards.
 */
export function createUnleashClientReader({
  url,
  clientToken,
  syncTimeoutMs = 10_000,
  refreshIntervalMs = 1000,
  appName = 'drctl-flag-confirm',
}: UnleashClientReaderOptions): UnleashClientReader {
  const apiUrl = /\/api\/?$/.test(url) ? url.replace(/\/?$/, '/') : `${url.replace(/\/+$/, '')}/api/`;

  const newClient = (refreshInterval: number, namePrefix?: string) =>
    new Unleash({
      appName,
      url: apiUrl,
      customHeaders: { Authorization: clientToken },
      refreshInterval,
      disableMetrics: true,
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
      ...(namePrefix ? { namePrefix } : {}),
    });
  const evaluate = (client: Unleash, names: string[]) => {
    const seen: Record<string, boolean | null> = {};
    for (const name of names) {
      seen[name] = client.getFeatureToggleDefinition(name) ? client.isEnabled(name) : null;
    }
    return seen;
  };

  return {
    async read(names, options = {}) {
      const client = newClient(refreshIntervalMs, options.namePrefix);
      try {
        await synchronized(client, apiUrl, syncTimeoutMs);
        return evaluate(client, names);
      } finally {
        client.destroy();
      }
    },

    async watch(names, until, { timeoutMs, intervalMs = WATCH_INTERVAL_MS }) {
      const client = newClient(intervalMs);
      let reads = 0;
      try {
        await synchronized(client, apiUrl, Math.min(syncTimeoutMs, timeoutMs));
        let seen = evaluate(client, names);
        reads++;
        if (until(seen)) return { seen, reads, satisfied: true };
        const satisfied = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          client.on(UnleashEvents.Changed, () => {
            seen = evaluate(client, names);
            reads++;
            if (until(seen)) {
              clearTimeout(timer);
              resolve(true);
            }
          });
        });
        return { seen, reads, satisfied };
      } finally {
        client.destroy();
      }
    },
  };
}

function synchronized(client: Unleash, apiUrl: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError = '';
    const timer = setTimeout(() => {
      reject(
        transientFailure(
          'UnleashClientNotSynchronized',
          `An Unleash client at ${apiUrl} did not synchronise within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}; check the Unleash URL, that the server is up and that UNLEASH_CLIENT_TOKEN is a valid client token`,
        ),
      );
    }, timeoutMs);
    // Without an 'error' listener the SDK's EventEmitter would throw; keep the message for the timeout.
    client.on(UnleashEvents.Error, (error: Error) => {
      lastError = error?.message ?? String(error);
      // The SDK stops refreshing after a 401/403: waiting out the timeout would not help.
      if (/responded (401|403)\b/.test(lastError)) {
        clearTimeout(timer);
        reject(
          permanentFailure(
            PermanentFailure.AccessDenied,
            `Unleash at ${apiUrl} refused the client token (${lastError}); check UNLEASH_CLIENT_TOKEN is a client (backend) token for this environment`,
          ),
        );
      }
    });
    client.once(UnleashEvents.Synchronized, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
