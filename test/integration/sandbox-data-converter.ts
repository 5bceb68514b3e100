import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { dataConverterOptions } from '../../security/codec/data-converter';
import type { StackInfo } from '../../sandbox/stack-info';
import { loadConfig } from '../../worker/config';

/**
 * The data converter of the sandbox's drctl config (codec on, keyring): a test's own Temporal client needs it
 * to read what drctl's worker and CLI wrote, as every drctl client does.
 */
export function sandboxDataConverter(stack: StackInfo): { dataConverter?: DataConverter } {
  return dataConverterOptions(loadConfig({ file: stack.configFile, env: {} })).options;
}

/** A Temporal client of the sandbox, with its codec, for `use`; its connection is closed after. */
export async function withSandboxClient<T>(
  stack: StackInfo,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    return await use(
      new Client({ connection, namespace: stack.temporal.namespace, ...sandboxDataConverter(stack) }),
    );
  } finally {
    await connection.close();
  }
}
