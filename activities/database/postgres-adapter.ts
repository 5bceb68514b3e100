import { setTimeout as delay } from 'node:timers/promises';
import { Client, type ClientConfig } from 'pg';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { envName, isPostgresUnreachable, toPostgresFailure, type ConnectionLabel } from './postgres-errors';
import { fenceServer, liftReplicatedFence, readFenceStatus, unfenceServer } from './postgres-fence';
import type {
  FenceResult,
  FenceStatus,
  PostgresMemberStatus,
  PostgresPort,
  PrimaryReplication,
  ProbeOptions,
  ProbeResult,
  StandbyStatus,
  UnfenceResult,
  WriteTestResult,
} from './postgres-port';

export interface PostgresAdapterOptions {
  /** Connection name → connection URL (`postgres.connections` of the worker config). */
  connections: Record<string, string>;
  /** Connect timeout per session. Default 3000 ms: an unreachable member must fail fast and be retried. */
  connectTimeoutMs?: number;
  /** Timeout of one statement. Default 90000 ms. */
  queryTimeoutMs?: number;
}

const READ_ONLY_SQLSTATE = '25006';
/** How soon after signalling a promotion its end is first looked for, doubling up to the maximum. */
const PROMOTION_FIRST_LOOK_MS = 2;
const PROMOTION_LOOK_MAX_MS = 100;

/** The PostgreSQL port over `pg`: one short session per call, always closed. */
export function createPostgresAdapter(options: PostgresAdapterOptions): PostgresPort {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 90_000;

  function configFor(connection: string, host?: string): { config: ClientConfig; label: ConnectionLabel } {
    return postgresClientConfig(options.connections, connection, { host, connectTimeoutMs, queryTimeoutMs });
  }

  async function withSession<T>(
    connection: string,
    work: (client: Client, label: ConnectionLabel) => Promise<T>,
    host?: string,
  ): Promise<T> {
    const { config, label } = configFor(connection, host);
    const client = new Client(config);
    // A server that goes away mid-session emits 'error' on the client; without a listener node would crash.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await work(client, label);
    } catch (error) {
      throw toPostgresFailure(error, label);
    } finally {
      // Awaited, though it costs ~5 ms: a session of drctl's still closing would be counted among the sessions
      // a fence ends (those begun before its configuration reload), and recorded so in the run's timeline.
      await client.end().catch(() => undefined);
    }
  }

  async function one<R>(client: Client, sql: string, params: unknown[] = []): Promise<R> {
    const result = await client.query(sql, params);
    return result.rows[0] as R;
  }

  async function readMemberStatus(client: Client, label: ConnectionLabel): Promise<PostgresMemberStatus> {
    const row = await one<{ in_recovery: boolean; read_only: string; version: string }>(
      client,
      `select pg_is_in_recovery() as in_recovery, current_setting('default_transaction_read_only') as read_only,
              current_setting('server_version') as version`,
    );
    return {
      address: `${label.host}:${label.port}`,
      inRecovery: row.in_recovery,
      defaultReadOnly: row.read_only === 'on',
      serverVersion: row.version,
    };
  }

  return {
    memberStatus(connection): Promise<PostgresMemberStatus> {
      return withSession(connection, readMemberStatus);
    },

    memberAndFenceStatus(connection, applicationRoles) {
      return withSession(connection, async (client, label) => {
        const member = await readMemberStatus(client, label);
        if (member.inRecovery) return { member, fence: null };
        try {
          return { member, fence: await readFenceStatus(client, applicationRoles) };
        } catch (error) {
          // The member answered: a session lost now (or a query timeout) must not read as "the member is down".
          const failure = toPostgresFailure(error, label);
          if (!isPostgresUnreachable(failure)) throw failure;
          throw transientFailure(
            'PostgresReadFailed',
            `${(failure as Error).message} (after ${label.host}:${label.port} had answered as a primary)`,
          );
        }
      });
    },

    standbyStatus(connection): Promise<StandbyStatus> {
      return withSession(connection, async (client) => {
        const row = await one<{
          in_recovery: boolean;
          receive_lsn: string | null;
          replay_lsn: string | null;
          pending: string | null;
          replay_age_ms: string | null;
          replayed_at: string | null;
        }>(
          client,
          `select pg_is_in_recovery() as in_recovery,
                  pg_last_wal_receive_lsn()::text as receive_lsn,
                  pg_last_wal_replay_lsn()::text as replay_lsn,
                  pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text as pending,
                  (extract(epoch from (clock_timestamp() - pg_last_xact_replay_timestamp())) * 1000)::text as replay_age_ms,
                  to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as replayed_at`,
        );
        const receiver = (
          await client.query<{ status: string; sender_host: string | null; sender_port: number | null }>(
            'select status, sender_host, sender_port from pg_stat_wal_receiver',
          )
        ).rows[0];
        return {
          inRecovery: row.in_recovery,
          walReceiverStatus: receiver?.status ?? null,
          walSender: receiver?.sender_host ? `${receiver.sender_host}:${receiver.sender_port ?? ''}` : null,
          receiveLsn: row.receive_lsn,
          replayLsn: row.replay_lsn,
          pendingReplayBytes: toNumber(row.pending),
          lastReplayAgeMs: toNumber(row.replay_age_ms),
          lastReplayedAt: row.replayed_at,
        };
      });
    },

    primaryReplication(connection): Promise<PrimaryReplication> {
      return withSession(connection, async (client) => {
        const current = await one<{ lsn: string; flush: string }>(
          client,
          'select pg_current_wal_lsn()::text as lsn, pg_current_wal_flush_lsn()::text as flush',
        );
        const rows = await client.query<{
          application_name: string;
          client_addr: string | null;
          state: string;
          replay_lsn: string | null;
          behind: string | null;
          lag_ms: string | null;
        }>(
          `select application_name, host(client_addr) as client_addr, state, replay_lsn::text as replay_lsn,
                  pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text as behind,
                  (extract(epoch from replay_lag) * 1000)::text as lag_ms
             from pg_stat_replication`,
        );
        return {
          currentLsn: current.lsn,
          flushLsn: current.flush,
          standbys: rows.rows.map((r) => ({
            applicationName: r.application_name,
            clientAddr: r.client_addr,
            state: r.state,
            replayLsn: r.replay_lsn,
            replayBytesBehind: toNumber(r.behind),
            replayLagMs: toNumber(r.lag_ms),
          })),
        };
      });
    },

    promote(connection, waitSeconds): Promise<boolean> {
      return withSession(connection, async (client) => {
        // pg_promote(true) looks for the end of recovery only every 100 ms (WAITS_PER_SECOND in xlogfuncs.c), so
        // a promotion that takes a few milliseconds is reported ~100 ms late on every failover. Signal it without
        // waiting and watch the end of recovery from this session instead.
        const signalled = await one<{ sent: boolean }>(client, 'select pg_promote(false) as sent');
        if (!signalled.sent) return false;
        const deadline = performance.now() + waitSeconds * 1000;
        let intervalMs = PROMOTION_FIRST_LOOK_MS;
        while (
          (await one<{ in_recovery: boolean }>(client, 'select pg_is_in_recovery() as in_recovery'))
            .in_recovery
        ) {
          if (performance.now() >= deadline) return false;
          await delay(intervalMs);
          intervalMs = Math.min(intervalMs * 2, PROMOTION_LOOK_MAX_MS);
        }
        return true;
      });
    },

    fence(connection, request): Promise<FenceResult> {
      return withSession(connection, (client, label) =>
        fenceServer(client, request, `${label.host}:${label.port} (connection ${label.name})`),
      );
    },

    unfence(connection, applicationRoles, fenceId): Promise<UnfenceResult> {
      return withSession(connection, (client) => unfenceServer(client, applicationRoles, fenceId));
    },

    liftFence(connection, applicationRoles): Promise<string[]> {
      return withSession(connection, (client) => liftReplicatedFence(client, applicationRoles));
    },

    fenceStatus(connection, applicationRoles): Promise<FenceStatus> {
      return withSession(connection, (client) => readFenceStatus(client, applicationRoles));
    },

    writeTest(connection): Promise<WriteTestResult> {
      return withSession(connection, async (client) => {
        const table = `drctl_write_test_${process.pid}_${Date.now()}`;
        try {
          await client.query('begin');
          await client.query(`create table ${table} (id int)`);
          await client.query('rollback');
          return { accepted: true, refusal: null, serverAddress: await serverAddress(client) };
        } catch (error) {
          await client.query('rollback').catch(() => undefined);
          const e = error as { code?: string; message?: string };
          if (e.code === READ_ONLY_SQLSTATE)
            return {
              accepted: false,
              refusal: `${e.code}: ${e.message ?? ''}`,
              serverAddress: await serverAddress(client),
            };
          throw error;
        }
      });
    },

    probe(connection, probeOptions: ProbeOptions): Promise<ProbeResult> {
      return withSession(
        connection,
        async (client, label) => {
          const address = `${label.host}:${label.port}`;
          if (!probeOptions.write) {
            const row = await one<{ in_recovery: boolean }>(
              client,
              'select 1, pg_is_in_recovery() as in_recovery',
            );
            return { address, inRecovery: row.in_recovery, insertedId: null };
          }
          const inserted = await one<{ id: string }>(
            client,
            'insert into drctl_probe (run_id) values ($1) returning id::text as id',
            [probeOptions.runId],
          );
          const row = await one<{ in_recovery: boolean }>(
            client,
            'select pg_is_in_recovery() as in_recovery',
          );
          return { address, inRecovery: row.in_recovery, insertedId: inserted.id };
        },
        probeOptions.host,
      );
    },
  };
}

/** A connection name the worker configuration lacks: ConfigurationMissing, naming the setting to add. */
export function unknownConnection(connection: string, known: readonly string[]): Error {
  return permanentFailure(
    PermanentFailure.ConfigurationMissing,
    `no PostgreSQL connection named "${connection}" in the worker configuration; add DRCTL_PG_${envName(connection)}_URL or postgres.connections.${connection} (known: ${known.join(', ') || 'none'})`,
  );
}

/**
 * The `pg` client configuration and the message label for a named connection, optionally pointed at another
 * host. Shared by this adapter and the drill's long-lived canary session. Throws ConfigurationMissing (naming
 * the setting to add) for an unknown connection name.
 */
export function postgresClientConfig(
  connections: Record<string, string>,
  connection: string,
  options: { host?: string; connectTimeoutMs: number; queryTimeoutMs: number },
): { config: ClientConfig; label: ConnectionLabel } {
  const url = connections[connection];
  if (url === undefined) throw unknownConnection(connection, Object.keys(connections));
  const parsed = new URL(url);
  if (options.host !== undefined) parsed.hostname = options.host;
  const label: ConnectionLabel = {
    name: connection,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
  };
  return {
    config: {
      connectionString: parsed.toString(),
      connectionTimeoutMillis: options.connectTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      application_name: 'drctl',
    },
    label,
  };
}

function toNumber(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The address of the server this session reached (`inet_server_addr()`), or null over a Unix socket. */
async function serverAddress(client: Client): Promise<string | null> {
  const result = await client.query<{ address: string | null }>('select host(inet_server_addr()) as address');
  return result.rows[0]?.address ?? null;
}
