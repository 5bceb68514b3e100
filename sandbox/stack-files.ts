import { mkdirSync, writeFileSync } from 'node:fs';
import type { DrctlConfig } from '../worker/config';
import { MOTO_CREDENTIALS } from './aws-clients';
import { sandboxPaths } from './sandbox-paths';
import type { StackInfo } from './stack-info';

export const TASK_QUEUE = 'drctl';

/** The drctl config for this stack, in the shape `loadConfig` reads (secrets included: the file is 0600). */
export function drctlConfigFor(stack: StackInfo): Omit<DrctlConfig, 'operator'> {
  const { security } = stack;
  return {
    temporal: {
      address: stack.temporal.address,
      namespace: stack.temporal.namespace,
      taskQueue: TASK_QUEUE,
      tls: false,
    },
    aws: { region: stack.aws.region, endpoint: stack.moto.endpoint },
    // Connection secrets and tokens by name: the worker reads them from (moto's) Secrets Manager.
    unleash: {
      url: stack.unleash.url,
      adminToken: { secret: security.secrets.unleashAdminToken },
      clientToken: { secret: security.secrets.unleashClientToken },
    },
    postgres: {
      connections: Object.fromEntries(
        Object.entries(security.secrets.postgres).map(([name, secret]) => [name, { secret }]),
      ),
    },
    secrets: { cacheTtlMs: 60_000 },
    codec: {
      enabled: true,
      keyringFile: security.keyringFile,
      dataKeyMaxAgeMs: 300_000,
      dataKeyMaxUses: 10_000,
    },
    codecServer: {
      listen: new URL(security.codecServer.url).host,
      allowedOrigins: security.codecServer.allowedOrigins,
      token: { secret: security.secrets.codecServerToken },
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
