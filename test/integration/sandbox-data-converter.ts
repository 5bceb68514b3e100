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
