import { Client } from 'pg';
import { postgresClientConfig } from '../database/postgres-adapter';
import { toPostgresFailure, type ConnectionLabel } from '../database/postgres-errors';
import { PermanentFailure, permanentFailure } from '../failures';
import type { CanaryPort, CanaryReadout, CanaryWriter } from './canary-port';

export interface CanaryAdapterOptions {
  /** Connection name → URL (`postgres.connections` of the worker config). */
  connections: Record<string, string>;
  /** Connect timeout. Default 1000 ms: a stopped primary must show up as failing writes, fast. */
  connectTimeoutMs?: number;
  /** Timeout of one canary write. Default 2000 ms. */
  queryTimeoutMs?: number;
}

const UNDEFINED_TABLE = '42P01';
const INSUFFICIENT_PRIVILEGE = '42501';
export const CANARY_TABLE_DDL =
  'create table drctl_canary (drill_id text not null, seq bigint not null, written_at timestamptz not null, primary key (drill_id, seq))';

/** The canary port over `pg`, reusing the PostgreSQL adapter's connection handling and error mapping. */
export function createCanaryAdapter(options: CanaryAdapterOptions): CanaryPort {
  const timeouts = {
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    queryTimeoutMs: options.queryTimeoutMs ?? 2000,
  };

  async function connect(connection: string): Promise<{ client: Client; label: ConnectionLabel }> {
    const { config, label } = postgresClientConfig(options.connections, connection, timeouts);
    const client = new Client({ ...config, application_name: 'drctl-canary' });
    // The server ends the session (fence, shutdown): without a listener node would crash on 'error'.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw toPostgresFailure(error, label);
    }
    return { client, label };
  }

  return {
    async openWriter(connection): Promise<CanaryWriter> {
      const { client, label } = await connect(connection);
      let closed = false;
      return {
        address: `${label.host}:${label.port}`,
        async insert(row) {
          try {
            await client.query('insert into drctl_canary(drill_id, seq, written_at) values ($1, $2, $3)', [
              row.drillId,
              row.seq,
              row.writtenAt,
            ]);
          } catch (error) {
            throw canaryFailure(error, label);
          }
        },
        async close() {
          if (closed) return;
          closed = true;
          await client.end().catch(() => undefined);
        },
      };
    },

    async readCanary(connection, query): Promise<CanaryReadout> {
      const { client, label } = await connect(connection);
      try {
        const result = await client.query<{
          present: number;
          present_acknowledged: number;
          newest_ms: string | null;
          newest_seq: string | null;
        }>(
          `select count(*)::int as present,
                  (count(*) filter (where seq <= $2 and seq <> all($3::bigint[])))::int as present_acknowledged,
                  (extract(epoch from max(written_at) filter (where written_at <= $4)) * 1000)::text as newest_ms,
                  (max(seq) filter (where written_at <= $4))::text as newest_seq
             from drctl_canary where drill_id = $1`,
          [query.drillId, query.lastAcknowledgedSeq, query.excludeSeqs, query.notAfter],
        );
        const row = result.rows[0]!;
        return {
          address: `${label.host}:${label.port}`,
          presentRows: row.present,
          presentAcknowledgedRows: row.present_acknowledged,
          newestPresentAtMs: row.newest_ms === null ? null : Math.round(Number(row.newest_ms)),
          newestPresentSeq: row.newest_seq === null ? null : Number(row.newest_seq),
        };
      } catch (error) {
        throw canaryFailure(error, label);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** The adapter's mapping, plus the two canary-specific setup errors: a missing table, missing grants. */
function canaryFailure(error: unknown, label: ConnectionLabel): unknown {
  const code = (error as { code?: string }).code;
  const where = `${label.host}:${label.port}/${label.database} (connection ${label.name})`;
  if (code === UNDEFINED_TABLE) {
    return permanentFailure(
      PermanentFailure.ConfigurationMissing,
      `table drctl_canary does not exist at ${where}; create it on the primary (it replicates): ${CANARY_TABLE_DDL}`,
    );
  }
  if (code === INSUFFICIENT_PRIVILEGE) {
    return permanentFailure(
      PermanentFailure.AccessDenied,
      `user ${label.user} may not use drctl_canary at ${where}; run: grant select, insert on drctl_canary to ${label.user}`,
    );
  }
  return toPostgresFailure(error, label);
}
