import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireFreePort } from './free-port';
import { isAlive, runningPid, startDetached, stopDetached } from './detached-process';
import { initCluster, startCluster, stopCluster, type PostgresCluster } from './postgres-cluster';
import { sandboxNode } from './node-runtime';
import { postgresUrl, withPgClient } from './pg-query';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';
import { LOOPBACK, type SandboxSettings } from './sandbox-settings';
import { waitUntil } from './wait-until';

export const UNLEASH_PROCESS = 'unleash';
export const UNLEASH_PROJECT = 'default';
export const UNLEASH_ENVIRONMENT = 'development';
const UNLEASH_DATABASE = 'unleash';

export function unleashUrl(settings: SandboxSettings): string {
  return `http://${LOOPBACK}:${settings.ports.unleash}`;
}

export function unleashAdminToken(settings: SandboxSettings): string {
  return `*:*.${settings.secrets.unleashAdminSecret}`;
}

export function unleashClientToken(settings: SandboxSettings): string {
  return `${UNLEASH_PROJECT}:${UNLEASH_ENVIRONMENT}.${settings.secrets.unleashClientSecret}`;
}

/** Unleash's own small PostgreSQL cluster, kept apart from the replicated pair that drills crash and promote. */
export function unleashDatabaseCluster(settings: SandboxSettings): PostgresCluster {
  return {
    name: 'pg-unleash',
    dataDir: sandboxPaths.pgDataDir('unleash'),
    listenAddress: LOOPBACK,
    port: settings.ports.unleashPostgres,
  };
}

/** Starts the Unleash database and server unless they already answer; the first start runs its migrations. */
export async function ensureUnleashUp(settings: SandboxSettings, log: (line: string) => void): Promise<void> {
  const database = unleashDatabaseCluster(settings);
  if (await initCluster(database, settings.secrets.postgresPassword))
    log('unleash: initialised its PostgreSQL cluster');
  if (await startCluster(database))
    log(`unleash: started its PostgreSQL on ${database.listenAddress}:${database.port}`);
  await ensureDatabaseExists(settings);
  if (runningPid(UNLEASH_PROCESS) !== undefined && (await unleashAnswers(settings))) return;
  await stopDetached(UNLEASH_PROCESS);
  if (!existsSync(join(sandboxPaths.unleashPackageDir, 'node_modules', 'unleash-server'))) {
    throw new SandboxError(
      'MissingTool',
      `unleash-server is not installed in ${sandboxPaths.unleashPackageDir}: run \`npm run setup\``,
    );
  }
  await requireFreePort(LOOPBACK, settings.ports.unleash, 'Unleash');
  log(
    `unleash: starting on ${unleashUrl(settings)} (log ${sandboxPaths.logFile(UNLEASH_PROCESS)}; the first start runs migrations)`,
  );
  const pid = startDetached(UNLEASH_PROCESS, sandboxNode(), [sandboxPaths.unleashStartScript], {
    cwd: sandboxPaths.unleashPackageDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: postgresUrl({
        user: 'postgres',
        password: settings.secrets.postgresPassword,
        host: LOOPBACK,
        port: settings.ports.unleashPostgres,
        database: UNLEASH_DATABASE,
      }),
      DATABASE_SSL: 'false',
      CHECK_VERSION: 'false',
      SEND_TELEMETRY: 'false',
      UNLEASH_HOST: LOOPBACK,
      UNLEASH_PORT: String(settings.ports.unleash),
      UNLEASH_ADMIN_TOKEN: unleashAdminToken(settings),
      UNLEASH_CLIENT_TOKEN: unleashClientToken(settings),
    },
  });
  await waitUntil(`Unleash at ${unleashUrl(settings)}`, () => unleashAnswers(settings), {
    timeoutMs: 180_000,
    intervalMs: 500,
    hint: `See ${sandboxPaths.logFile(UNLEASH_PROCESS)}.`,
    stillAlive: () => isAlive(pid),
  });
}

export async function stopUnleash(settings: SandboxSettings): Promise<void> {
  await stopDetached(UNLEASH_PROCESS);
  await stopCluster(unleashDatabaseCluster(settings), 'fast');
}

export async function unleashAnswers(settings: SandboxSettings): Promise<boolean> {
  try {
    const response = await fetch(`${unleashUrl(settings)}/health`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function ensureDatabaseExists(settings: SandboxSettings): Promise<void> {
  const url = postgresUrl({
    user: 'postgres',
    password: settings.secrets.postgresPassword,
    host: LOOPBACK,
    port: settings.ports.unleashPostgres,
    database: 'postgres',
  });
  await withPgClient(url, async (client) => {
    const existing = await client.query('select 1 from pg_database where datname = $1', [UNLEASH_DATABASE]);
    if (existing.rowCount === 0) await client.query(`create database ${UNLEASH_DATABASE}`);
  });
}
