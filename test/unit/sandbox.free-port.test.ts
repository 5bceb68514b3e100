import { readFileSync } from 'node:fs';
import { findFreePort, isPortFree } from '../../sandbox/free-port';

/**
 * Sandbox ports are stored and reused across restarts, so they must not come from the kernel's ephemeral range,
 * where an outgoing connection can take one while its server is down (a dev-server restart then failed with
 * "bind: address already in use" on the Temporal UI port).
 */
test('GIVEN the kernel ephemeral range WHEN the sandbox picks ports THEN each is free and below that range', async () => {
  const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
  const taken = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await findFreePort([], taken);
    expect(port).toBeLessThan(Number(ephemeralLow));
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(taken.has(port)).toBe(false);
    expect(await isPortFree('127.0.0.1', port)).toBe(true);
    taken.add(port);
  }
});
