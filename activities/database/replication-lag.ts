import type { PrimaryReplication, StandbyStatus } from './postgres-port';

/** How far the standby is behind, and how that figure was obtained (operators must know what was measured). */
export interface LagMeasurement {
  /** Lag in ms; null when it could not be measured. */
  lagMs: number | null;
  /** Bytes of WAL the standby has not replayed, by the best source available. */
  bytesBehind: number | null;
  method: string;
}

/**
 * Measures replication lag honestly. With the primary reachable: bytes = primary's current LSN − the standby's
 * replay LSN (0 means nothing to lose), time = the primary's `replay_lag` for that standby. Without it: only
 * what the standby holds (received but not replayed). "Time since the last replayed transaction" is used
 * only when WAL is actually waiting, because on an idle primary it grows without any lag.
 */
export function measureLag(
  standby: StandbyStatus,
  primary: PrimaryReplication | null,
  replicaHost: string,
): LagMeasurement {
  if (primary !== null) {
    const row =
      primary.standbys.find((s) => s.clientAddr === replicaHost) ??
      (primary.standbys.length === 1 ? primary.standbys[0] : undefined);
    const bytesBehind = row?.replayBytesBehind ?? null;
    if (row === undefined) {
      return {
        lagMs: null,
        bytesBehind: null,
        method: `primary lists ${primary.standbys.length} standbys in pg_stat_replication and none is this replica`,
      };
    }
    if (bytesBehind !== null && bytesBehind <= 0) {
      return {
        lagMs: 0,
        bytesBehind: 0,
        method: `primary at ${primary.currentLsn}, replica replayed ${row.replayLsn ?? '?'} (pg_stat_replication): 0 bytes behind`,
      };
    }
    if (row.replayLagMs !== null) {
      return {
        lagMs: row.replayLagMs,
        bytesBehind,
        method: `primary's pg_stat_replication.replay_lag, ${bytesBehind ?? '?'} bytes behind`,
      };
    }
    if (standby.lastReplayAgeMs !== null) {
      return {
        lagMs: standby.lastReplayAgeMs,
        bytesBehind,
        method: `${bytesBehind ?? '?'} bytes behind and no replay_lag sample: time since the last replayed commit (an upper bound)`,
      };
    }
    return {
      lagMs: null,
      bytesBehind,
      method: `${bytesBehind ?? '?'} bytes behind, no time figure available`,
    };
  }
  if (standby.pendingReplayBytes !== null && standby.pendingReplayBytes <= 0) {
    return {
      lagMs: 0,
      bytesBehind: 0,
      method: `primary unreachable: replica-side only — everything received (${standby.receiveLsn ?? '?'}) is replayed; WAL the primary never sent cannot be measured`,
    };
  }
  return {
    lagMs: standby.lastReplayAgeMs,
    bytesBehind: standby.pendingReplayBytes,
    method: `primary unreachable: ${standby.pendingReplayBytes ?? '?'} bytes received and not replayed; time since the last replayed commit`,
  };
}
