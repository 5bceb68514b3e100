import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SandboxError } from './sandbox-error';

/** True when nothing listens on `host:port` (we could bind it ourselves). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

/**
 * The ports sandbox servers may be given: below the kernel's ephemeral range. Ports are stored and reused when a
 * server restarts; a port from the ephemeral range can meanwhile become the local end of some outgoing
 * connection, and the restart then fails with "address already in use" (seen: the Temporal UI port on a
 * dev-server restart).
 */
export function sandboxPortRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (Number(low) > 0) ephemeralLow = Number(low);
  } catch {
    // Not Linux: 32768 is below the BSD/macOS ephemeral range (49152) too.
  }
  const high = Math.min(ephemeralLow, 32768) - 1;
  return { low: Math.max(1024, high - 12_000), high };
}

/** A port free on 127.0.0.1 and on every address in `alsoFreeOn`, outside the ephemeral range. */
export async function findFreePort(
  alsoFreeOn: string[] = [],
  avoid: Set<number> = new Set(),
): Promise<number> {
  const { low, high } = sandboxPortRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (avoid.has(port)) continue;
    const free = await Promise.all(['127.0.0.1', ...alsoFreeOn].map((host) => isPortFree(host, port)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(
    `found no free loopback port in ${low}-${high} after 200 attempts: free some ports and retry`,
  );
}

/** Throws a PortTaken error naming who wanted the port, for when something foreign holds a stored port. */
export async function requireFreePort(host: string, port: number, wantedBy: string): Promise<void> {
  if (!(await isPortFree(host, port))) {
    throw new SandboxError(
      'PortTaken',
      `${host}:${port}, stored for ${wantedBy} in .sandbox/settings.json, is taken by another process: stop that process, or run \`npm run sandbox -- down\`, delete .sandbox and run \`up\` again to choose new ports`,
    );
  }
}
