import type { Client, Connection } from '@temporalio/client';
import type { DrctlConfig } from '../worker/config';
import { temporalConnectionOptions } from '../worker/temporal-connection-options';
import { TemporalUnreachableError } from '../worker/temporal-unreachable-error';
import { CliError, ExitCode } from './cli-error';
import { refusedConnection } from './refused-connection';

/** Leaves room for process start-up inside the 10 s an operator waits at most to learn Temporal is down. */
export const CONNECT_TIMEOUT_MS = 8_000;

/**
 * The largest answer the CLI takes from Temporal. gRPC's default is 4 MB, and the SDK's own default of 128 MB is
 * set under a key grpc-js ignores (`max_receive_message_length`, without `grpc.`): a page of a large evacuation's
 * history (200 services, each child's start carrying the signed plan) is over 5 MB, and following it failed.
 */
export const MAX_RECEIVE_BYTES = 128 * 1024 * 1024;

/**
 * A Temporal client, or a clear error naming the address and how to change it: within 8 s, or within two seconds
 * when nothing listens there.
 */
export async function connectClient(
  config: DrctlConfig,
  options: { connectTimeoutMs?: number } = {},
): Promise<{ client: Client; close: () => Promise<void> }> {
  const { address, namespace, tls } = config.temporal;
  // Loaded here, not at the top: commands that never talk to Temporal (help, validate, runbooks) start faster.
  const { Client, Connection } = await import('@temporalio/client');
  const { dataConverterOptions } = await import('../security/codec/data-converter');
  const connectionOptions = temporalConnectionOptions(config.temporal);
  const codec = dataConverterOptions(config);
  let connection: Connection | undefined;
  const probe = new AbortController();
  try {
    // Inside the try: lazy() already refuses an address it cannot parse (a scheme, an unbracketed IPv6).
    connection = Connection.lazy({
      ...connectionOptions,
      connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      channelArgs: { 'grpc.max_receive_message_length': MAX_RECEIVE_BYTES },
    });
    const connected = connection.ensureConnected();
    connected.catch(() => undefined); // a refusal may win the race: the connect then fails when closed
    await Promise.race([
      connected,
      refusedConnection(address, probe.signal).then((refusal) => {
        throw new Error(refusal);
      }),
    ]);
  } catch (error) {
    codec.close();
    await connection?.close().catch(() => undefined);
    throw new CliError(
      'TemporalUnreachable',
      new TemporalUnreachableError(address, Boolean(tls), error).message,
      ExitCode.Environment,
    );
  } finally {
    probe.abort();
  }
  return {
    client: new Client({ connection, namespace, ...codec.options }),
    close: async () => {
      codec.close();
      await connection.close();
    },
  };
}
