import { existsSync, readFileSync } from 'node:fs';
import { seedAws } from './aws-seed';
import {
  codecServerAnswers,
  codecServerUrl,
  ensureCodecServerUp,
  stopCodecServer,
  temporalUiUrl,
} from './codec-server-process';
import { ensureMotoUp, motoAnswers, motoEndpoint, resetMoto, stopMoto } from './moto-server';
import { postgresUrl, withPgClient } from './pg-query';
import { isAcceptingConnections } from './postgres-cluster';
import {
  crashPrimary,
  startPrimaryAgain,
  ensureReplicatedPairUp,
  isReplicaStreaming,
  primaryCluster,
  rebuildPrimaryAsStandby,
  replicaCluster,
  restoreReplicatedPair,
  stopReplicatedPair,
  superuserUrl,
} from './postgres-replication';
import { APP_ROLE, EHR_DATABASE, seedPostgres } from './postgres-seed';
import { sandboxPaths } from './sandbox-paths';
import { loadOrCreateSettings, PRIMARY_HOST, REPLICA_HOST, type SandboxSettings } from './sandbox-settings';
import { seedSandboxSecurity } from './security-seed';
import { writeStackFiles } from './stack-files';
import { strictAwsControl } from './strict-aws-client';
import {
  ensureStrictAwsUp,
  stopStrictAws,
  strictAwsAnswers,
  strictAwsControlUrl,
  strictAwsEndpoint,
} from './strict-aws-process';
import type { StackInfo } from './stack-info';
import { withStackLock } from './stack-lock';
import {
  ensureSandboxCertificates,
  sandboxCertificatePaths,
  TEMPORAL_TLS_SERVER_NAME,
} from './tls/sandbox-certificates';
import {
  ensureTemporalTlsProxyUp,
  TEMPORAL_TLS_PROXY_PROCESS,
  stopTemporalTlsProxy,
  temporalHttpTlsAddress,
  temporalTlsAddress,
  temporalTlsProxyAnswers,
} from './tls/temporal-tls-proxy';
import { describeTlsStack } from './tls/tls-stack-info';
import { endEvidenceLedger, LEDGER_SETTLE_WITHIN_MS } from './evidence-ledger-reset';
import {
  ensureTemporalUp,
  stopTemporal,
  temporalAddress,
  temporalHttpAddress,
  temporalAnswers,
  TEMPORAL_NAMESPACE,
} from './temporal-server';
import { SEEDED_FLAGS, seedUnleash } from './unleash-seed';
import {
  ensureUnleashUp,
  stopUnleash,
  unleashAdminToken,
  unleashAnswers,
  unleashClientToken,
  unleashDatabaseCluster,
  UNLEASH_ENVIRONMENT,
  UNLEASH_PROJECT,
  unleashUrl,
} from './unleash-server';

export type { StackInfo } from './stack-info';

export interface StackOptions {
  /** Receives one progress line per step (`temporal: up in 3.1 s`). Default: silent. */
  log?: (line: string) => void;
}

export type ResettablePart = 'postgres' | 'aws' | 'unleash';

export interface ComponentStatus {
  name: string;
  up: boolean;
  detail: string;
}

/**
 * Starts whatever is not running, seeds what is missing and writes `.sandbox/stack.json`, the drctl config and
 * the env file. Idempotent, and fast (about a second) when everything already runs. Seeding never reverts
 * state a drill changed (DNS records, flags); `resetStack` does that.
 */
export async function ensureStackUp(options: StackOptions = {}): Promise<StackInfo> {
  const log = options.log ?? (() => undefined);
  return withStackLock(async () => {
    const settings = await loadOrCreateSettings();
    const certificates = await ensureSandboxCertificates(log);
    const motoState: { now: 'running' | 'started' } = { now: 'running' };
    const [, aws] = await Promise.all([
      timed(log, 'temporal', async () => {
        await ensureTemporalUp(settings, log);
        await ensureTemporalTlsProxyUp(settings, certificates, log);
      }),
      timed(log, 'moto', async () => {
        motoState.now = await ensureMotoUp(settings, log);
        await ensureStrictAwsUp(settings, log);
        return seedAwsBehindStrictLayer(settings);
      }),
      timed(log, 'postgres', async () => {
        if ((await ensureReplicatedPairUp(settings, log)) === 'streaming') await seedPostgres(settings);
      }),
      timed(log, 'unleash', async () => {
        await ensureUnleashUp(settings, log);
        await seedUnleash(unleashUrl(settings), unleashAdminToken(settings));
      }),
    ]);
    if (motoState.now === 'started')
      await timed(log, 'evidence ledger end', () => endEvidenceLedger(settings));
    const stack = publish(await withSecurity(describeStack(settings, aws), settings), log);
    await timed(log, 'codec-server', () => ensureCodecServerUp(settings, log));
    return stack;
  });
}

/**
 * Restores the seeded state after a drill, in seconds. PostgreSQL: the ORIGINAL primary data dir runs as
 * primary on 127.0.0.2 again (ALTER SYSTEM undone), the replica is re-cloned and streams, seed rows restored.
 * AWS: moto forgets everything and is reseeded. Unleash: every seeded flag off. Default: all three.
 */
export async function resetStack(
  options: { only?: ResettablePart[] } & StackOptions = {},
): Promise<StackInfo> {
  const log = options.log ?? (() => undefined);
  const parts = new Set<ResettablePart>(options.only ?? ['postgres', 'aws', 'unleash']);
  return withStackLock(async () => {
    const settings = await loadOrCreateSettings();
    await ensureSandboxCertificates(log);
    const [aws] = await Promise.all([
      parts.has('aws')
        ? timed(log, 'aws reset', async () => {
            await ensureMotoUp(settings);
            await ensureStrictAwsUp(settings, log);
            // The ledger ends first: a bundle write in flight finishes on the moto it began on.
            await endEvidenceLedger(settings, { settleWithinMs: LEDGER_SETTLE_WITHIN_MS });
            await resetMoto(settings);
            await strictAwsControl(strictAwsControlUrl(settings)).reset({ estate: true });
            return seedAwsBehindStrictLayer(settings);
          })
        : (lastAwsInfo() ?? seedAwsBehindStrictLayer(settings)),
      parts.has('postgres')
        ? timed(log, 'postgres reset', async () => {
            await restoreReplicatedPair(settings, log);
            await seedPostgres(settings, { restore: true });
          })
        : undefined,
      parts.has('unleash')
        ? timed(log, 'unleash reset', async () => {
            await ensureUnleashUp(settings, log);
            await seedUnleash(unleashUrl(settings), unleashAdminToken(settings), { turnAllOff: true });
          })
        : undefined,
    ]);
    return publish(await withSecurity(describeStack(settings, aws), settings), log);
  });
}

/** Stops every server. Data (Temporal history, PostgreSQL clusters) stays in `.sandbox` for the next `up`. */
export async function stopStack(options: StackOptions = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  await withStackLock(async () => {
    const settings = await loadOrCreateSettings();
    await Promise.all([
      timed(log, 'temporal stop', async () => {
        await stopTemporalTlsProxy();
        await stopTemporal();
      }),
      timed(log, 'moto stop', async () => {
        await stopStrictAws();
        await stopMoto();
      }),
      timed(log, 'postgres stop', () => stopReplicatedPair(settings)),
      timed(log, 'unleash stop', () => stopUnleash(settings)),
      timed(log, 'codec-server stop', () => stopCodecServer()),
    ]);
  });
}

/** Crashes the PostgreSQL primary (`pg_ctl -m immediate stop`), for outage drills. `resetStack` brings it back. */
export async function killPostgresPrimary(): Promise<void> {
  const settings = await loadOrCreateSettings();
  await crashPrimary(settings);
}

/** Starts the crashed primary again, unchanged: an old primary back from a partition, still writable. */
export async function restartPostgresPrimary(): Promise<void> {
  const settings = await loadOrCreateSettings();
  await startPrimaryAgain(settings);
}

/**
 * Failback preparation: after a failover promoted 127.0.0.3, makes 127.0.0.2 (fenced, crashed or stopped) a
 * streaming standby OF 127.0.0.3 (fresh pg_basebackup -R, same address and port) and waits until 127.0.0.3
 * shows it streaming. A failback (promote 127.0.0.2, fence 127.0.0.3, DNS back) then works with the usual
 * activities; `resetStack({ only: ['postgres'] })` restores the seeded pair either way.
 */
export async function rebuildPrimaryAsReplica(options: StackOptions = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  await withStackLock(async () => {
    const settings = await loadOrCreateSettings();
    await ensureSandboxCertificates(log);
    await timed(log, 'postgres rebuild', () => rebuildPrimaryAsStandby(settings, log));
  });
}

/**
 * Stops the Temporal dev server and starts it again with the same --db-filename and ports, waiting until it
 * answers: a test can restart the server mid-run. History lives in the SQLite file, so workflows survive;
 * clients and workers reconnect on their own.
 */
export async function restartTemporal(
  options: StackOptions & {
    /** SIGKILL, as a crash: no graceful shutdown (its SQLite history survives: WAL mode). */
    kill?: boolean;
  } = {},
): Promise<void> {
  const log = options.log ?? (() => undefined);
  await withStackLock(async () => {
    const settings = await loadOrCreateSettings();
    await timed(log, 'temporal stop', () => stopTemporal(options.kill ? 0 : undefined));
    await timed(log, 'temporal start', () => ensureTemporalUp(settings, log));
  });
}

/** One line per server: whether it answers a real request, and what it is. Never starts anything. */
export async function stackStatus(): Promise<ComponentStatus[]> {
  if (!existsSync(sandboxPaths.settingsFile)) {
    return [{ name: 'sandbox', up: false, detail: 'never started: run `npm run sandbox -- up`' }];
  }
  const settings = await loadOrCreateSettings();
  const primary = primaryCluster(settings);
  const replica = replicaCluster(settings);
  const unleashDb = unleashDatabaseCluster(settings);
  return Promise.all([
    status(
      'temporal',
      temporalAnswers(settings),
      `${temporalAddress(settings)} namespace ${TEMPORAL_NAMESPACE}`,
    ),
    status(
      TEMPORAL_TLS_PROXY_PROCESS,
      temporalTlsProxyAnswers(settings, sandboxCertificatePaths()),
      `${temporalTlsAddress(settings)} (gRPC) and ${temporalHttpTlsAddress(settings)} (HTTP API) mTLS proxies, server name ${TEMPORAL_TLS_SERVER_NAME}`,
    ),
    status('moto', motoAnswers(settings), motoEndpoint(settings)),
    status(
      'strict-aws',
      strictAwsAnswers(settings),
      `${strictAwsEndpoint(settings)} (the AWS endpoint: strict layer in front of moto)`,
    ),
    memberStatus('postgres-primary', settings, PRIMARY_HOST, isAcceptingConnections(primary)),
    memberStatus('postgres-replica', settings, REPLICA_HOST, isAcceptingConnections(replica)),
    status(
      'postgres-unleash',
      isAcceptingConnections(unleashDb),
      `${unleashDb.listenAddress}:${unleashDb.port}`,
    ),
    status('unleash', unleashAnswers(settings), unleashUrl(settings)),
    status(
      'codec-server',
      codecServerAnswers(settings),
      `${codecServerUrl(settings)} (Web UI ${temporalUiUrl(settings)})`,
    ),
  ]);
}

async function status(name: string, up: Promise<boolean>, detail: string): Promise<ComponentStatus> {
  const isUp = await up;
  return {
    name,
    up: isUp,
    detail: isUp
      ? detail
      : `${detail}: not answering (log ${sandboxPaths.logFile(name.replace('postgres-', 'pg-'))})`,
  };
}

async function memberStatus(
  name: string,
  settings: SandboxSettings,
  host: string,
  accepting: Promise<boolean>,
): Promise<ComponentStatus> {
  const where = `${host}:${settings.ports.postgres}`;
  if (!(await accepting)) return status(name, Promise.resolve(false), where);
  try {
    const inRecovery = await withPgClient(superuserUrl(settings, host), async (client) => {
      const result = await client.query<{ recovery: boolean }>('select pg_is_in_recovery() as recovery');
      return result.rows[0]?.recovery === true;
    });
    let role = inRecovery ? 'standby' : 'primary (read-write)';
    if (host === PRIMARY_HOST && !inRecovery) {
      role += (await isReplicaStreaming(settings)) ? ', replica streaming' : ', NO replica streaming';
    }
    return { name, up: true, detail: `${where} ${role}` };
  } catch (error) {
    return {
      name,
      up: false,
      detail: `${where} accepts connections but queries fail: ${(error as Error).message}`,
    };
  }
}

/** Seeds the secrets, the KMS key and the keyring, and adds where they are to the stack description. */
async function withSecurity(
  stack: Omit<StackInfo, 'security'>,
  settings: SandboxSettings,
): Promise<StackInfo> {
  return { ...stack, security: await seedSandboxSecurity(stack, settings) };
}

function describeStack(settings: SandboxSettings, aws: StackInfo['aws']): Omit<StackInfo, 'security'> {
  const postgres = describePostgres(settings);
  return {
    dir: sandboxPaths.dir,
    configFile: sandboxPaths.configFile,
    envFile: sandboxPaths.envFile,
    temporal: {
      address: temporalAddress(settings),
      httpAddress: temporalHttpAddress(settings),
      namespace: TEMPORAL_NAMESPACE,
      uiUrl: temporalUiUrl(settings),
      binary: sandboxPaths.temporalBinary,
    },
    moto: {
      endpoint: strictAwsEndpoint(settings),
      rawEndpoint: motoEndpoint(settings),
      controlUrl: strictAwsControlUrl(settings),
    },
    postgres,
    unleash: {
      url: unleashUrl(settings),
      adminToken: unleashAdminToken(settings),
      clientToken: unleashClientToken(settings),
      project: UNLEASH_PROJECT,
      environment: UNLEASH_ENVIRONMENT,
      flags: [...SEEDED_FLAGS],
    },
    tls: describeTlsStack(settings, postgres, sandboxCertificatePaths()),
    aws,
  };
}

function describePostgres(settings: SandboxSettings): StackInfo['postgres'] {
  return {
    port: settings.ports.postgres,
    primaryHost: PRIMARY_HOST,
    replicaHost: REPLICA_HOST,
    database: EHR_DATABASE,
    primaryUrl: superuserUrl(settings, PRIMARY_HOST, EHR_DATABASE),
    replicaUrl: superuserUrl(settings, REPLICA_HOST, EHR_DATABASE),
    appUrl: postgresUrl({
      user: APP_ROLE,
      password: settings.secrets.appPassword,
      host: PRIMARY_HOST,
      port: settings.ports.postgres,
      database: EHR_DATABASE,
    }),
  };
}

function publish(stack: StackInfo, log: (line: string) => void): StackInfo {
  writeStackFiles(stack);
  log(`stack: wrote ${sandboxPaths.stackFile}, ${sandboxPaths.configFile}, ${sandboxPaths.envFile}`);
  return stack;
}

/** The AWS section last written, so resetting only PostgreSQL does not touch moto. */
function lastAwsInfo(): StackInfo['aws'] | undefined {
  if (!existsSync(sandboxPaths.stackFile)) return undefined;
  const aws = (JSON.parse(readFileSync(sandboxPaths.stackFile, 'utf8')) as Partial<StackInfo>).aws;
  // A stack.json written before the Aurora seed and lag metrics existed is reseeded instead.
  return aws?.aurora !== undefined && aws.lagMetrics !== undefined && aws.rds.fenceSecurityGroup !== undefined
    ? aws
    : undefined;
}

/** Seeds moto directly (seeding is not a client the layer judges), then tells the layer which lag metrics to publish. */
async function seedAwsBehindStrictLayer(settings: SandboxSettings): Promise<StackInfo['aws']> {
  const aws = await seedAws(motoEndpoint(settings));
  await strictAwsControl(strictAwsControlUrl(settings)).registerLagDefaults(aws.lagMetrics);
  return aws;
}

async function timed<T>(log: (line: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  log(`${what}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}
