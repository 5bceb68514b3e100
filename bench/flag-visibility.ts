/**
 * When an Unleash change became visible to clients, seen from outside drctl: a watcher polls the client API every
 * 10 ms with a query of its own (so drctl's reads and Unleash's per-query cache are left alone) and notes when every
 * flag is first served with its wanted value; the Admin API's event log says when the change was accepted. The
 * difference is the server's revision tick, the floor no client can beat.
 */
export interface UnleashEndpoints {
  url: string;
  adminToken: string;
  clientToken: string;
  environment: string;
}

const POLL_MS = 10;

export interface FlagWatch {
  /** Stops polling; the epoch ms at which every flag was first served with its wanted value, if it was. */
  stop(): Promise<number | undefined>;
}

export function watchFlagsServed(
  unleash: UnleashEndpoints,
  wanted: Record<string, boolean>,
  namePrefix: string,
): FlagWatch {
  let servedAt: number | undefined;
  let stopped = false;
  const names = Object.keys(wanted);
  const polling = (async () => {
    while (!stopped && servedAt === undefined) {
      const response = await fetch(
        `${unleash.url}/api/client/features?namePrefix=${encodeURIComponent(namePrefix)}`,
        { headers: { Authorization: unleash.clientToken } },
      );
      const at = Date.now();
      const body = (await response.json()) as { features: Array<{ name: string; enabled: boolean }> };
      const served = new Map(body.features.map((feature) => [feature.name, feature.enabled]));
      if (names.every((name) => served.get(name) === wanted[name])) servedAt = at;
      else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await polling;
      return servedAt;
    },
  };
}

/** The latest time (epoch ms) after `since` at which the Admin API turned one of `names` on or off. */
export async function lastToggleAt(
  unleash: UnleashEndpoints,
  names: readonly string[],
  since: number,
): Promise<number | undefined> {
  let latest: number | undefined;
  for (const name of names) {
    const response = await fetch(`${unleash.url}/api/admin/events/${encodeURIComponent(name)}`, {
      headers: { Authorization: unleash.adminToken },
    });
    const { events } = (await response.json()) as {
      events: Array<{ type: string; createdAt: string; environment?: string }>;
    };
    for (const event of events) {
      const at = Date.parse(event.createdAt);
      const toggle =
        event.type === 'feature-environment-enabled' || event.type === 'feature-environment-disabled';
      if (
        toggle &&
        event.environment === unleash.environment &&
        at >= since &&
        (latest === undefined || at > latest)
      )
        latest = at;
    }
  }
  return latest;
}
