import { AuthFileError } from '../auth/io/auth-file-error';
import { loadConfig } from './config';
import { runWorker } from './run-worker';
import { TemporalUnreachableError } from './temporal-unreachable-error';

/** `npm run worker`: one drctl worker with the configuration from the environment and the config file. */
const config = loadConfig();
runWorker(config, {
  onWarning: (line) => process.stderr.write(`drctl worker: ${line}\n`),
  onReady: () =>
    process.stderr.write(
      `drctl worker polling "${config.temporal.taskQueue}" on ${config.temporal.address} (${config.temporal.namespace})\n`,
    ),
}).catch((error: unknown) => {
  process.stderr.write(`drctl worker: ${(error as Error).message}\n`);
  // A policy, catalog or injection setting the worker cannot use, or a Temporal it cannot reach, is the
  // environment's fault: exit 3, as the CLI.
  process.exit(error instanceof AuthFileError || error instanceof TemporalUnreachableError ? 3 : 1);
});
