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

/** A port the kernel hands out on 127.0.0.1 that is also free on every address in `alsoFreeOn`. */
export async function findFreePort(
  alsoFreeOn: string[] = [],
  avoid: Set<number> = new Set(),
): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolvePromise(chosen));
      });
    });
    if (avoid.has(port)) continue;
    const freeElsewhere = await Promise.all(alsoFreeOn.map((host) => isPortFree(host, port)));
    if (freeElsewhere.every(Boolean)) return port;
  }
  throw new Error('found no free loopback port after 50 attempts: free some ports and retry');
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
