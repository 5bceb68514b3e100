import { mkdirSync, writeFileSync } from 'node:fs';
import type { ConfigOverrides } from '../worker/config';
import { MOTO_CREDENTIALS } from './aws-clients';
import { sandboxPaths } from './sandbox-paths';
import type { StackInfo } from './stack-info';

export const TASK_QUEUE = 'drctl';

/** The drctl config for this stack, in the shape `loadConfig` reads (secrets included: the file is 0600). */
export function drctlConfigFor(stack: StackInfo): ConfigOverrides {
  return {
    temporal: {
      address: stack.temporal.address,
      namespace: stack.temporal.namespace,
      taskQueue: TASK_QUEUE,
      tls: false,
    },
    aws: { region: stack.aws.region, endpoint: stack.moto.endpoint },
    unleash: {
      url: stack.unleash.url,
      adminToken: stack.unleash.adminToken,
      clientToken: stack.unleash.clientToken,
    },
    postgres: {
      connections: {
        'ehr-primary': stack.postgres.primaryUrl,
        'ehr-replica': stack.postgres.replicaUrl,
        'ehr-app': stack.postgres.appUrl,
      },
    },
  };
}

/** Writes `.sandbox/stack.json`, `.sandbox/drctl.config.json` and `.sandbox/env`. */
export function writeStackFiles(stack: StackInfo): void {
  mkdirSync(sandboxPaths.dir, { recursive: true });
  writeFileSync(sandboxPaths.stackFile, JSON.stringify(stack, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(sandboxPaths.configFile, JSON.stringify(drctlConfigFor(stack), null, 2) + '\n', {
    mode: 0o600,
  });
  const env: Record<string, string> = {
    DRCTL_CONFIG: stack.configFile,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: stack.moto.endpoint,
    AWS_REGION: stack.aws.region,
    AWS_DEFAULT_REGION: stack.aws.region,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: stack.temporal.namespace,
    DRCTL_TASK_QUEUE: TASK_QUEUE,
    UNLEASH_URL: stack.unleash.url,
    UNLEASH_ADMIN_TOKEN: stack.unleash.adminToken,
    UNLEASH_CLIENT_TOKEN: stack.unleash.clientToken,
  };
  const lines = Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`);
  writeFileSync(
    sandboxPaths.envFile,
    `# drctl sandbox: \`source ${sandboxPaths.envFile}\`\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
