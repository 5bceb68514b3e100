import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { StackInfo } from '../sandbox/stack-info';

const SCRIPT = resolve(__dirname, 'ehr-db-failover.sh');
const RECORD_NAME = 'ehr-db.sandbox.drctl.internal.';

/**
 * Runs bench/ehr-db-failover.sh (psql, curl and the sandbox venv's aws CLI) against a freshly reset stack and
 * returns its wall time. It fails when the script does: a failover that did not happen is not a figure.
 */
export function runBashFailover(stack: StackInfo): Promise<number> {
  const env = bashFailoverEnv(stack);
  const started = performance.now();
  return new Promise((done, failed) =>
    execFile('bash', [SCRIPT], { env }, (error, _stdout, stderr) =>
      error
        ? failed(new Error(`bench/ehr-db-failover.sh failed: ${stderr || error.message}`))
        : done(performance.now() - started),
    ),
  );
}

/** The script's environment: the stack's endpoints and credentials. */
export function bashFailoverEnv(stack: StackInfo): NodeJS.ProcessEnv {
  const app = new URL(stack.postgres.appUrl);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PG_PRIMARY_URL: stack.postgres.primaryUrl,
    PG_REPLICA_URL: stack.postgres.replicaUrl,
    PG_APP_USER: decodeURIComponent(app.username),
    PG_APP_PASSWORD: decodeURIComponent(app.password),
    PG_PORT: String(stack.postgres.port),
    PG_DATABASE: stack.postgres.database,
    AWS_ENDPOINT_URL: stack.moto.endpoint,
    AWS_DEFAULT_REGION: stack.aws.region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_CLI: join(stack.dir, 'venv', 'bin', 'aws'),
    ZONE_ID: stack.aws.route53.zoneId,
    RECORD_NAME,
    NEW_ADDRESS: stack.postgres.replicaHost,
    BACKUP_BUCKET: stack.aws.s3.bucket,
    BACKUP_PREFIX: stack.aws.s3.prefix,
    UNLEASH_URL: stack.unleash.url,
    UNLEASH_ADMIN_TOKEN: stack.unleash.adminToken,
    UNLEASH_CLIENT_TOKEN: stack.unleash.clientToken,
  };
  return env;
}
