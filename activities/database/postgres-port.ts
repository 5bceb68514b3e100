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
  /**
   * Promotes the standby (`pg_promote`) and waits up to `waitSeconds` for it to leave recovery; true when it did.
   * Errors with SQLSTATE 55000 on a server not in recovery.
   */
  promote(connection: string, waitSeconds: number): Promise<boolean>;
  /**
   * Fences the server against its application: every role in `applicationRoles` loses LOGIN (`ALTER ROLE … NOLOGIN`)
   * and every session of those roles is terminated, so no client of the application can connect or write, whatever
   * it sets (`SET default_transaction_read_only = off`, `BEGIN READ WRITE`, …). `default_transaction_read_only = on`
   * (`ALTER SYSTEM`, reloaded) stays as a second layer for roles not listed, with every other client session that
   * predates it terminated. The connection's own role (drctl's) keeps its login to verify.
   *
   * Before changing anything, each role gets a marker (`ALTER ROLE … SET drctl.fence = '<fenceId>;login=…;read_only=…'`)
   * recording what this fence is about to change, so a retry after a crash, and the undo, know exactly what the fence
   * changed. The role changes and markers are catalog writes and replicate to the standby; `liftFence` undoes the
   * login part on a promoted standby.
   */
  fence(connection: string, request: FenceRequest): Promise<FenceResult>;
  /**
   * Undoes `fence` on the same server from its markers: LOGIN back only to the roles the fence revoked it from,
   * `default_transaction_read_only` reset only if the fence set it, markers removed. Sessions the fence ended are
   * not brought back. With `fenceId`, markers of another fence are left alone.
   */
  unfence(connection: string, applicationRoles: string[], fenceId?: string): Promise<UnfenceResult>;
  /**
   * On a promoted standby: gives LOGIN back to the roles a replicated fence marker says were revoked, and removes the
   * markers. Leaves `default_transaction_read_only` alone (that setting never replicates).
   */
  liftFence(connection: string, applicationRoles: string[]): Promise<string[]>;
  /** What the fence would see: the application roles (login, open sessions, markers) and the read-only default. */
  fenceStatus(connection: string, applicationRoles: string[]): Promise<FenceStatus>;
  /**
   * `memberStatus`, and `fenceStatus` when the member is not in recovery (a primary), in one session: what a fence
   * plans from, read with one connection's setup instead of two.
   */
  memberAndFenceStatus(
    connection: string,
    applicationRoles: string[],
  ): Promise<{ member: PostgresMemberStatus; fence: FenceStatus | null }>;
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
  /** `pg_last_xact_replay_timestamp()`: when the last transaction the standby replayed committed on the primary. */
  lastReplayedAt: string | null;
}

export interface PrimaryReplication {
  currentLsn: string;
  /** `pg_current_wal_flush_lsn()`: every acknowledged commit lies at or before it. */
  flushLsn: string;
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

export interface FenceRequest {
  /** The roles the application logs in as; they lose LOGIN and their sessions are terminated. */
  applicationRoles: string[];
  /** Names this fence in the markers (the run and step); a retry passes the same id. */
  fenceId: string;
}

/** A fence marker on an application role: what that fence changed. */
export interface FenceMarker {
  fenceId: string;
  /** True when the fence revoked the role's LOGIN (it could log in before). */
  loginRevoked: boolean;
  /** True when the fence set `default_transaction_read_only = on` (it was off before). */
  readOnlySet: boolean;
}

export interface FenceResult {
  /** True when the markers in place are this fence's (`fenceId`): the changes are this fence's to undo. */
  ownFence: boolean;
  /**
   * True when this call revoked a login or turned the read-only default on, whatever the markers say (a fence
   * lifted by hand leaves its markers): false means it found the fence already whole.
   */
  changedNow: boolean;
  /** The fence the markers name (this one, or an earlier fence that is still in place). */
  fencedBy: string;
  /** Roles whose LOGIN this fence revoked (from the markers, so a retry reports the first attempt's changes). */
  loginRevoked: string[];
  /** True when this fence set `default_transaction_read_only = on`. */
  readOnlySet: boolean;
  /** Client sessions terminated: every session of an application role, and other sessions older than read-only. */
  terminatedSessions: number;
}

export interface UnfenceResult {
  loginRestored: string[];
  readOnlyReset: boolean;
  /** Roles whose marker was removed; empty when the server carried no marker (nothing of drctl's to undo). */
  markersCleared: string[];
  /** Markers of another fence, left in place because `fenceId` did not match. */
  otherFences: string[];
}

export interface FenceStatus {
  roles: Array<{
    role: string;
    exists: boolean;
    canLogin: boolean;
    /** Client sessions of the role open now. */
    sessions: number;
    marker: FenceMarker | null;
  }>;
  defaultReadOnly: boolean;
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
