import { Client, Connection } from '@temporalio/client';
import { dataConverterOptions } from '../security/codec/data-converter';
import type { DrctlConfig } from '../worker/config';
import { temporalConnectionOptions } from '../worker/temporal-connection-options';
import { CliError, ExitCode } from './cli-error';

/** Leaves room for process start-up inside the 10 s an operator waits at most to learn Temporal is down. */
const CONNECT_TIMEOUT_MS = 8_000;

/** A Temporal client, or within 8 s a clear error naming the address and how to change it. */
export async function connectClient(
  config: DrctlConfig,
): Promise<{ client: Client; close: () => Promise<void> }> {
  const { address, namespace, tls } = config.temporal;
  const options = temporalConnectionOptions(config.temporal);
  const codec = dataConverterOptions(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...options, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    codec.close();
    throw new CliError(
      'TemporalUnreachable',
      `cannot reach Temporal at ${address} (${(error as Error).message.split('\n')[0]}). ` +
        'Check TEMPORAL_ADDRESS (or temporal.address in the config file) and that the server is up' +
        (tls
          ? "; with TLS, that the server trusts the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) and the CA (TEMPORAL_TLS_SERVER_CA_CERT_PATH) signed the server's certificate"
          : '') +
        '; for the local stack run `npm run sandbox -- up`.',
      ExitCode.Environment,
    );
  }
  return {
    client: new Client({ connection, namespace, ...codec.options }),
    close: async () => {
      codec.close();
      await connection.close();
    },
  };
}
