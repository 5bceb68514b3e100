/**
 * The narrow port the drill's canary and its data-loss measurement need. Unlike `PostgresPort` (one short
 * session per call), the canary writes on ONE long-lived session, so a write costs a round trip and not a
 * connect; `readCanary` opens its own short session.
 */
export interface CanaryPort {
  /** Connects to the server behind `connection`. Throws PostgresUnreachable (retryable) when it cannot. */
  openWriter(connection: string): Promise<CanaryWriter>;
  /** What the server behind `connection` holds of one drill's canary rows. */
  readCanary(connection: string, query: CanaryReadQuery): Promise<CanaryReadout>;
}

export interface CanaryRow {
  drillId: string;
  seq: number;
  /** Client (worker) clock, the same clock the injection is timed with. */
  writtenAt: Date;
}

export interface CanaryWriter {
  /** host:port of the session. */
  readonly address: string;
  /**
   * `insert into drctl_canary(drill_id, seq, written_at) values ($1, $2, $3)` in autocommit: resolves once the
   * server acknowledged the commit. A session that died mid-write rejects with PostgresUnreachable.
   */
  insert(row: CanaryRow): Promise<void>;
  /** Ends the session; never throws. */
  close(): Promise<void>;
}

export interface CanaryReadQuery {
  drillId: string;
  /** Rows with `seq <= lastAcknowledgedSeq`, except `excludeSeqs`, are counted as acknowledged rows present. */
  lastAcknowledgedSeq: number;
  excludeSeqs: number[];
  /** Only rows written at or before this instant count for the newest present row. */
  notAfter: Date;
}

export interface CanaryReadout {
  /** host:port read from. */
  address: string;
  /** Every row of the drill present. */
  presentRows: number;
  /** Present rows with `seq <= lastAcknowledgedSeq` and not in `excludeSeqs`. */
  presentAcknowledgedRows: number;
  /** Newest `written_at` (epoch ms) among rows with `written_at <= notAfter`, and its seq; null when none. */
  newestPresentAtMs: number | null;
  newestPresentSeq: number | null;
}
