import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackInfo } from '../../sandbox/stack-info';

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

/** `base` with a copy of the stack's drctl config whose `temporal` section `change` edited. */
export function withTemporalConfig(
  stack: StackInfo,
  base: NodeJS.ProcessEnv,
  change: (temporal: Record<string, unknown>) => void,
): NodeJS.ProcessEnv {
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { temporal: Record<string, unknown> };
  change(config.temporal);
  const file = join(mkdtempSync(join(tmpdir(), 'drctl-transport-')), 'drctl.config.json');
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return { ...base, DRCTL_CONFIG: file };
}

/** Three ways to reach Temporal: gRPC only, HTTP only (gRPC's address closed), and a dead HTTP address. */
export async function transportEnvs(
  stack: StackInfo,
  env: NodeJS.ProcessEnv,
): Promise<{ grpcOnly: NodeJS.ProcessEnv; httpOnly: NodeJS.ProcessEnv; deadHttp: NodeJS.ProcessEnv }> {
  const dead = `127.0.0.1:${await closedPort()}`;
  return {
    grpcOnly: withTemporalConfig(stack, env, (temporal) => delete temporal.httpAddress),
    httpOnly: withTemporalConfig(stack, env, (temporal) => (temporal.address = dead)),
    deadHttp: withTemporalConfig(stack, env, (temporal) => (temporal.httpAddress = dead)),
  };
}
