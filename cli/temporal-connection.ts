import type { Client, Connection } from '@temporalio/client';
import type { DrctlConfig } from '../worker/config';
import { CliError, ExitCode } from './cli-error';

/** Leaves room for process start-up inside the 10 s an operator waits at most to learn Temporal is down. */
const CONNECT_TIMEOUT_MS = 8_000;

/** A Temporal client, or within 8 s a clear error naming the address and how to change it. */
export async function connectClient(
  config: DrctlConfig,
): Promise<{ client: Client; close: () => Promise<void> }> {
  const { address, namespace, apiKey, tls } = config.temporal;
  // Loaded here, not at the top: commands that never talk to Temporal (help, validate, runbooks) start faster.
  const { Client, Connection } = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address,
      connectTimeout: CONNECT_TIMEOUT_MS,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(tls ? { tls: true } : {}),
    });
  } catch (error) {
    throw new CliError(
      'TemporalUnreachable',
      `cannot reach Temporal at ${address} (${(error as Error).message.split('\n')[0]}). ` +
        'Check TEMPORAL_ADDRESS (or temporal.address in the config file) and that the server is up; ' +
        'for the local stack run `npm run sandbox -- up`.',
      ExitCode.Environment,
    );
  }
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}
