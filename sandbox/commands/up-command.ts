import { Command } from 'commander';
import { ensureStackUp } from '../stack';
import { outputOption, progressLine, type OutputFormat } from './output-format';

export function upCommand(): Command {
  return new Command('up')
    .description(
      'start every local server that is not running, seed it, and write .sandbox/stack.json, drctl.config.json and env',
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Examples:
  npm run sandbox -- up                  start (or confirm) the whole stack, with progress lines
  npm run sandbox -- up --output json    print the StackInfo as JSON on stdout
  source .sandbox/env                    then use drctl against the sandbox`,
    )
    .action(async (options: { output: OutputFormat }) => {
      const started = Date.now();
      const stack = await ensureStackUp({ log: progressLine });
      if (options.output === 'json') {
        process.stdout.write(JSON.stringify(stack, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        [
          `sandbox up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          `  temporal  ${stack.temporal.address} (namespace ${stack.temporal.namespace})`,
          `  aws       ${stack.moto.endpoint} (strict layer; moto itself at ${stack.moto.rawEndpoint})`,
          `  postgres  primary ${stack.postgres.primaryHost}:${stack.postgres.port}, replica ${stack.postgres.replicaHost}:${stack.postgres.port}, db ${stack.postgres.database}`,
          `  unleash   ${stack.unleash.url}`,
          `  tls       temporal ${stack.tls.temporal.address} (mTLS, server name ${stack.tls.temporal.serverName}), postgres sslmode=verify-full, CA ${stack.tls.caFile}`,
          `  web ui    ${stack.temporal.uiUrl ?? '-'} (payloads decoded by ${stack.security.codecServer.url}; token in .sandbox/stack.json)`,
          `  history   encrypted (keyring ${stack.security.keyringFile}); secrets in Secrets Manager (drctl/sandbox/*)`,
          `  config    ${stack.configFile} (TLS: ${stack.tls.configFile})`,
          `  env       source ${stack.envFile}`,
        ].join('\n') + '\n',
      );
    });
}
