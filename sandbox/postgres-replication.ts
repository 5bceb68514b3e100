import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  clearAlterSystemSettings,
  cloneAsStandby,
  initCluster,
  postmasterPid,
  removeStandbySignal,
  startCluster,
  stopCluster,
  type PostgresCluster,
} from './postgres-cluster';
import { postgresUrl, withPgClient } from './pg-query';
import { SandboxError } from './sandbox-error';
import { sandboxPaths } from './sandbox-paths';
import { PRIMARY_HOST, REPLICA_HOST, type SandboxSettings } from './sandbox-settings';
import { sandboxCertificatePaths } from './tls/sandbox-certificates';
import { waitUntil } from './wait-until';

/**
 * The replicated pair the failover runbooks act on: a primary on 127.0.0.2 streaming to a hot standby on
 * 127.0.0.3, same port, so a DNS A record can switch between them like between real endpoints.
 */
export function primaryCluster(settings: SandboxSettings): PostgresCluster {
  return {
    name: 'pg-primary',
    dataDir: sandboxPaths.pgDataDir('primary'),
    listenAddress: PRIMARY_HOST,
    port: settings.ports.postgres,
    tls: sandboxCertificatePaths().pgPrimary,
  };
}

export function replicaCluster(settings: SandboxSettings): PostgresCluster {
  return {
    name: 'pg-replica',
    dataDir: sandboxPaths.pgDataDir('replica'),
    listenAddress: REPLICA_HOST,
    port: settings.ports.postgres,
    tls: sandboxCertificatePaths().pgReplica,
  };
}

export function superuserUrl(settings: SandboxSettings, host: string, database = 'postgres'): string {
  return postgresUrl({
    user: 'postgres',
    password: settings.secrets.postgresPassword,
    host,
    port: settings.ports.postgres,
    database,
  });
}

/**
 * Creates what is missing (primary cluster, replica clone), starts what is stopped, waits for streaming.
 * Returns `drill-in-progress` (and changes nothing more) when it finds the replica promoted.
 */
export async function ensureReplicatedPairUp(
  settings: SandboxSettings,
  log: (line: string) => void,
): Promise<'streaming' | 'drill-in-progress'> {
  const primary = primaryCluster(settings);
  const replica = replicaCluster(settings);
  // A promoted replica is a drill in progress, not a fault: leave the pair as the drill left it (restarting a
  // stopped old primary now would make two primaries). resetStack restores the seeded pair.
  if (postmasterPid(replica) !== undefined && (await isPromoted(settings))) {
    log(
      'postgres: the replica is promoted (a failover drill?); left as is; `npm run sandbox -- reset --only postgres` restores the pair',
    );
    return 'drill-in-progress';
  }
  if (await initCluster(primary, settings.secrets.postgresPassword))
    log('postgres: initialised primary cluster');
  if (await startCluster(primary))
    log(`postgres: started primary on ${primary.listenAddress}:${primary.port}`);
  if (!existsSync(join(replica.dataDir, 'PG_VERSION'))) {
    log('postgres: cloning replica with pg_basebackup');
    await cloneAsStandby(primary, replica, settings.secrets.postgresPassword);
  }
  if (await startCluster(replica))
    log(`postgres: started replica on ${replica.listenAddress}:${replica.port}`);
  for (const member of [primary, replica]) {
    if (!(await tlsIsOn(settings, member.listenAddress))) {
      log(
        `postgres: restarting ${member.name} with TLS on (it was started before the sandbox had certificates)`,
      );
      await stopCluster(member, 'fast');
      await startCluster(member);
    }
  }
  if (await isPromoted(settings)) {
    log(
      'postgres: the replica came up promoted (a failover drill?); `npm run sandbox -- reset --only postgres` restores the pair',
    );
    return 'drill-in-progress';
  }
  await waitForStreaming(settings);
  return 'streaming';
}

async function tlsIsOn(settings: SandboxSettings, host: string): Promise<boolean> {
  return withPgClient(superuserUrl(settings, host), async (client) => {
    const result = await client.query<{ ssl: string }>('show ssl');
    return result.rows[0]?.ssl === 'on';
  });
}

/** True when the replica runs but is out of recovery, i.e. someone promoted it. */
export async function isPromoted(settings: SandboxSettings): Promise<boolean> {
  return withPgClient(superuserUrl(settings, REPLICA_HOST), async (client) => {
    const result = await client.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
    return result.rows[0]?.recovery === false;
  });
}

/**
 * Back to the seeded topology after a failover drill: the ORIGINAL primary data dir runs as primary again
 * (ALTER SYSTEM settings undone, standby.signal removed), the replica is re-cloned from it and streams.
 */
export async function restoreReplicatedPair(
  settings: SandboxSettings,
  log: (line: string) => void,
): Promise<void> {
  const primary = primaryCluster(settings);
  const replica = replicaCluster(settings);
  await stopCluster(replica, 'immediate');
  await stopCluster(primary, 'fast').catch(() => stopCluster(primary, 'immediate'));
  if (await initCluster(primary, settings.secrets.postgresPassword))
    log('postgres: initialised primary cluster');
  clearAlterSystemSettings(primary);
  removeStandbySignal(primary);
  await startCluster(primary);
  log('postgres: re-cloning replica from the original primary');
  await cloneAsStandby(primary, replica, settings.secrets.postgresPassword);
  await startCluster(replica);
  await waitForStreaming(settings);
}

/**
 * Failback preparation after a failover (127.0.0.3 promoted, 127.0.0.2 fenced, crashed or stopped): the old
 * primary's data dir is replaced by a fresh base backup of 127.0.0.3 (`pg_basebackup -R`), so 127.0.0.2 runs
 * as a hot standby streaming from 127.0.0.3 on the same address and port. The backup goes to a staging dir
 * first, so a failed clone leaves the old data dir in place. `restoreReplicatedPair` still restores the seeded
 * pair afterwards: it takes this same data dir, clears its ALTER SYSTEM settings (the new primary_conninfo)
 * and standby.signal, and starts it as the primary.
 */
export async function rebuildPrimaryAsStandby(
  settings: SandboxSettings,
  log: (line: string) => void,
): Promise<void> {
  const primary = primaryCluster(settings);
  const replica = replicaCluster(settings);
  if (postmasterPid(replica) === undefined || !(await isPromoted(settings))) {
    throw new SandboxError(
      'InvalidState',
      `the replica on ${replica.listenAddress}:${replica.port} is not a running promoted primary: rebuild the old primary only after a failover promoted it (\`select pg_promote()\` or drctl failover); \`npm run sandbox -- reset --only postgres\` restores the seeded pair`,
    );
  }
  // Same name as the primary cluster: pg_basebackup -R sets application_name=pg-primary in primary_conninfo.
  const staging: PostgresCluster = { ...primary, dataDir: `${primary.dataDir}.rebuild` };
  log(`postgres: cloning ${replica.listenAddress} into a staging dir with pg_basebackup -R`);
  try {
    await cloneAsStandby(replica, staging, settings.secrets.postgresPassword);
  } catch (error) {
    rmSync(staging.dataDir, { recursive: true, force: true });
    throw error;
  }
  await stopCluster(primary, 'fast').catch(() => stopCluster(primary, 'immediate'));
  rmSync(primary.dataDir, { recursive: true, force: true });
  renameSync(staging.dataDir, primary.dataDir);
  // A role switch the old primary saw (a fence) lived in its own postgresql.auto.conf, now gone; the clone
  // carries 127.0.0.3's settings plus the primary_conninfo -R appended (the last line wins).
  await startCluster(primary);
  log(`postgres: ${primary.listenAddress}:${primary.port} started as a standby of ${replica.listenAddress}`);
  await waitUntil(
    `PostgreSQL ${primary.listenAddress} streaming from ${replica.listenAddress}`,
    () => isStreamingTo(settings, REPLICA_HOST, primary.name),
    {
      timeoutMs: 30_000,
      intervalMs: 100,
      hint: `See ${sandboxPaths.logFile('pg-primary')} and ${sandboxPaths.logFile('pg-replica')}; \`npm run sandbox -- reset --only postgres\` restores the seeded pair.`,
    },
  );
}

export async function stopReplicatedPair(settings: SandboxSettings): Promise<void> {
  await stopCluster(replicaCluster(settings), 'fast');
  await stopCluster(primaryCluster(settings), 'fast');
}

/** Crashes the primary (`pg_ctl -m immediate stop`), as in an outage. */
export async function crashPrimary(settings: SandboxSettings): Promise<void> {
  await stopCluster(primaryCluster(settings), 'immediate');
}

/** Waits until the primary lists the replica in pg_stat_replication as `streaming`. */
export async function waitForStreaming(settings: SandboxSettings, timeoutMs = 30_000): Promise<void> {
  await waitUntil('PostgreSQL replica streaming from the primary', () => isReplicaStreaming(settings), {
    timeoutMs,
    intervalMs: 100,
    hint: `See ${sandboxPaths.logFile('pg-replica')} and ${sandboxPaths.logFile('pg-primary')}; \`npm run sandbox -- reset\` re-clones the replica.`,
  });
}

export async function isReplicaStreaming(settings: SandboxSettings): Promise<boolean> {
  return isStreamingTo(settings, PRIMARY_HOST, replicaCluster(settings).name);
}

/** True when `upstreamHost` lists the standby named `standbyName` in pg_stat_replication as `streaming`. */
export async function isStreamingTo(
  settings: SandboxSettings,
  upstreamHost: string,
  standbyName: string,
): Promise<boolean> {
  return withPgClient(superuserUrl(settings, upstreamHost), async (client) => {
    const result = await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_replication where state = 'streaming' and application_name = $1`,
      [standbyName],
    );
    return Number(result.rows[0]?.n ?? 0) > 0;
  });
}

export function pairPids(settings: SandboxSettings): { primary?: number; replica?: number } {
  return {
    primary: postmasterPid(primaryCluster(settings)),
    replica: postmasterPid(replicaCluster(settings)),
  };
}
