import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ConfigOverrides } from '../worker/config';
import { MOTO_CREDENTIALS } from './aws-clients';
import { sandboxEvidenceConfig } from './evidence-seed';
import { CHECKOUT_NODE, MIN_NODE_MAJOR } from './node-runtime';
import { operatorPaths, sandboxInjections, seedOperators } from './operator-seed';
import { REPO_ROOT, sandboxPaths } from './sandbox-paths';
import type { StackInfo } from './stack-info';

export const TASK_QUEUE = 'drctl';

/** The drctl config for this stack, in the shape `loadConfig` reads (secrets included: the file is 0600). */
export function drctlConfigFor(stack: StackInfo): ConfigOverrides {
  const { security } = stack;
  return {
    temporal: {
      address: stack.temporal.address,
      httpAddress: stack.temporal.httpAddress,
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
    access: {
      policyFile: operatorPaths.policyFile,
      catalogDirs: [resolve(REPO_ROOT, 'runbooks', 'examples')],
    },
    drill: { injections: sandboxInjections() },
    // Evidence objects are encrypted under the sandbox's KMS key (SSE-KMS), as in production. By its alias: a reset
    // empties moto and the reseed makes a new key under the same alias, while a running worker keeps its config.
    evidence: { ...sandboxEvidenceConfig(), kmsKeyId: security.kms.alias },
  };
}

/** The same stack through TLS: mTLS to Temporal through the proxy, `sslmode=verify-full` to PostgreSQL. */
export function drctlTlsConfigFor(stack: StackInfo): ConfigOverrides {
  const plain = drctlConfigFor(stack);
  return {
    ...plain,
    temporal: {
      ...plain.temporal,
      address: stack.tls.temporal.address,
      httpAddress: stack.tls.temporal.httpAddress,
      tls: true,
      tlsCaPath: stack.tls.caFile,
      tlsCertPath: stack.tls.clientCertFile,
      tlsKeyPath: stack.tls.clientKeyFile,
      tlsServerName: stack.tls.temporal.serverName,
    },
    postgres: {
      connections: {
        'ehr-primary': stack.tls.postgres.primaryUrl,
        'ehr-replica': stack.tls.postgres.replicaUrl,
        'ehr-app': stack.tls.postgres.appUrl,
      },
    },
  };
}

/**
 * Writes `.sandbox/stack.json`, `.sandbox/drctl.config.json`, `.sandbox/drctl.tls.config.json` and `.sandbox/env`,
 * and the demo operators' keys and access policy (`.sandbox/operators/`, `.sandbox/access-policy.json`); the env
 * file signs as alice.
 */
export function writeStackFiles(stack: StackInfo): void {
  mkdirSync(sandboxPaths.dir, { recursive: true });
  seedOperators();
  writeFileSync(sandboxPaths.stackFile, JSON.stringify(stack, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(sandboxPaths.configFile, JSON.stringify(drctlConfigFor(stack), null, 2) + '\n', {
    mode: 0o600,
  });
  writeFileSync(stack.tls.configFile, JSON.stringify(drctlTlsConfigFor(stack), null, 2) + '\n', {
    mode: 0o600,
  });
  const env: Record<string, string> = {
    DRCTL_CONFIG: stack.configFile,
    DRCTL_KEY_FILE: operatorPaths.keyFile('alice'),
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
  if (existsSync(CHECKOUT_NODE)) {
    const bin = shellQuote(dirname(CHECKOUT_NODE));
    lines.push(
      `case ":$PATH:" in *:${bin}:*) ;; *) export PATH=${bin}:"$PATH" ;; esac # Node ${MIN_NODE_MAJOR} from setup`,
    );
  }
  writeFileSync(
    sandboxPaths.envFile,
    `# drctl sandbox: \`source ${sandboxPaths.envFile}\`\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
