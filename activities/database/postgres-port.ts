/**
 * The narrow port the PostgreSQL strategy and the SQL probe need. Every method names a connection from the
 * worker's configuration (`postgres.connections`), opens its own short-lived session and closes it, so a
 * method's answer always comes from a fresh session (what a newly connecting client would see).
 *
 * Every method is async: ports are wrapped with `timed()`, which turns every call into a promise.
 */
export interface PostgresPort {
  /** Role and settings of the server behind `connection`. */
  memberStatus(connection: string): Promise<PostgresMemberStatus>;
  /** The standby's WAL receiver and its LSNs (all null on a server not in recovery). */
  standbyStatus(connection: string): Promise<StandbyStatus>;
  /** The primary's current WAL position and its `pg_stat_replication` rows. */
  primaryReplication(connection: string): Promise<PrimaryReplication>;
  /** `select pg_promote(true, waitSeconds)`; true when the server left recovery within the wait. */
  promote(connection: string, waitSeconds: number): Promise<boolean>;
  /**
   * Makes the server refuse writes: `ALTER SYSTEM SET default_transaction_read_only = on` and
   * `pg_reload_conf()` unless already set, then terminates every other client session that started before
   * the configuration was (re)loaded, so an open session cannot go on writing.
   */
  fence(connection: string): Promise<FenceResult>;
  /**
   * Undoes `fence`: `ALTER SYSTEM RESET default_transaction_read_only` and `pg_reload_conf()` when the setting
   * is on; true when this call changed it. Sessions the fence terminated are not brought back.
   */
  unfence(connection: string): Promise<boolean>;
  /** Tries a write in a new session (a table created inside a transaction that is rolled back). */
  writeTest(connection: string): Promise<WriteTestResult>;
  /**
   * The SQL probe: connects with the connection's credentials, optionally to another host (what DNS
   * answers), then inserts a row into `drctl_probe` (write) or runs `select 1`.
   */
  probe(connection: string, options: ProbeOptions): Promise<ProbeResult>;
}

export interface PostgresMemberStatus {
  /** host:port actually connected to. */
  address: string;
  inRecovery: boolean;
  /** `default_transaction_read_only` as a new session sees it. */
  defaultReadOnly: boolean;
  serverVersion: string;
}

export interface StandbyStatus {
  inRecovery: boolean;
  /** `pg_stat_wal_receiver.status` (`streaming`, `catchup`, …) or null when no WAL receiver runs. */
  walReceiverStatus: string | null;
  /** host:port the WAL receiver is connected to, when it is. */
  walSender: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** `pg_wal_lsn_diff(receive, replay)`: WAL received but not yet applied. */
  pendingReplayBytes: number | null;
  /** Milliseconds since the last replayed transaction committed on the primary; misleading when idle. */
  lastReplayAgeMs: number | null;
}

export interface PrimaryReplication {
  currentLsn: string;
  standbys: Array<{
    applicationName: string;
    clientAddr: string | null;
    state: string;
    replayLsn: string | null;
    /** `pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)`. */
    replayBytesBehind: number | null;
    /** `replay_lag` in ms; null once the standby has caught up and the primary is idle. */
    replayLagMs: number | null;
  }>;
}

export interface FenceResult {
  /** True when this call set `default_transaction_read_only = on`; false when it was already on. */
  settingChanged: boolean;
  /** Client sessions terminated because they predate the read-only configuration. */
  terminatedSessions: number;
}

export interface WriteTestResult {
  accepted: boolean;
  /** SQLSTATE and message when the write was refused. */
  refusal: string | null;
  /** The server address the write landed on (`inet_server_addr()`); null over a Unix socket. */
  serverAddress: string | null;
}

export interface ProbeOptions {
  /** Connect to this host instead of the connection URL's (port, database and credentials stay). */
  host?: string;
  write: boolean;
  /** Recorded in `drctl_probe.run_id`. */
  runId: string;
}

export interface ProbeResult {
  /** host:port the probe reached. */
  address: string;
  inRecovery: boolean;
  /** `drctl_probe.id` of the inserted row, when `write`. */
  insertedId: string | null;
}
