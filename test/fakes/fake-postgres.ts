import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { POSTGRES_UNREACHABLE } from '../../activities/database/postgres-errors';
import type {
  FenceResult,
  PostgresMemberStatus,
  PostgresPort,
  PrimaryReplication,
  ProbeOptions,
  ProbeResult,
  StandbyStatus,
  WriteTestResult,
} from '../../activities/database/postgres-port';

/** One simulated server. Tests set fields directly to stage a situation. */
export interface FakePgMember {
  host: string;
  port: number;
  reachable: boolean;
  badPassword: boolean;
  inRecovery: boolean;
  /** `default_transaction_read_only`. */
  readOnly: boolean;
  /** A role setting that overrides the fence (the write test still succeeds after fencing). */
  ignoresReadOnly: boolean;
  walReceiverStatus: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  pendingReplayBytes: number | null;
  lastReplayAgeMs: number | null;
  currentLsn: string;
  standbys: PrimaryReplication['standbys'];
  /** Client sessions open on this server (terminated by a fence). */
  openSessions: number;
  /** After pg_promote, stays in recovery for this many status reads. */
  promoteDelayPolls: number;
  rows: Array<{ id: number; runId: string }>;
}

/** In-memory PostgreSQL pair behind the real port; `state` is public so tests assert on it. */
export class FakePostgres implements PostgresPort {
  readonly state = {
    /** Connection name → member. Two connections may share a member (same server, other credentials). */
    members: new Map<string, FakePgMember>(),
    promotions: [] as string[],
    fences: [] as string[],
    unfences: [] as string[],
    calls: [] as string[],
  };
  private readonly promotionPollsLeft = new Map<FakePgMember, number>();

  /** Adds a server reachable through `connections`. */
  addMember(connections: string[], member: Partial<FakePgMember> & Pick<FakePgMember, 'host'>): FakePgMember {
    const full: FakePgMember = {
      port: 5432,
      reachable: true,
      badPassword: false,
      inRecovery: false,
      readOnly: false,
      ignoresReadOnly: false,
      walReceiverStatus: null,
      receiveLsn: null,
      replayLsn: null,
      pendingReplayBytes: null,
      lastReplayAgeMs: null,
      currentLsn: '0/3000000',
      standbys: [],
      openSessions: 0,
      promoteDelayPolls: 0,
      rows: [],
      ...member,
    };
    for (const c of connections) this.state.members.set(c, full);
    return full;
  }

  /** A healthy streaming pair: `primary`/`replica` connections, plus `app` on the primary. */
  static healthyPair(): { pg: FakePostgres; primary: FakePgMember; replica: FakePgMember } {
    const pg = new FakePostgres();
    const primary = pg.addMember(['ehr-primary', 'ehr-app'], {
      host: '127.0.0.2',
      openSessions: 2,
      standbys: [
        {
          applicationName: 'walreceiver',
          clientAddr: '127.0.0.3',
          state: 'streaming',
          replayLsn: '0/3000000',
          replayBytesBehind: 0,
          replayLagMs: null,
        },
      ],
    });
    const replica = pg.addMember(['ehr-replica'], {
      host: '127.0.0.3',
      inRecovery: true,
      walReceiverStatus: 'streaming',
      receiveLsn: '0/3000000',
      replayLsn: '0/3000000',
      pendingReplayBytes: 0,
      lastReplayAgeMs: 600_000,
    });
    return { pg, primary, replica };
  }

  private member(connection: string, host?: string): FakePgMember {
    const named = this.state.members.get(connection);
    if (named === undefined) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `no PostgreSQL connection named "${connection}"; add DRCTL_PG_${connection.toUpperCase().replace(/-/g, '_')}_URL or postgres.connections.${connection}`,
      );
    }
    const target = host === undefined ? named : [...this.state.members.values()].find((m) => m.host === host);
    if (target === undefined || !target.reachable) {
      const address = `${host ?? named.host}:${named.port}`;
      throw transientFailure(
        POSTGRES_UNREACHABLE,
        `cannot reach ${address} (connection ${connection}): connect ECONNREFUSED ${address}; check that the server is up and listening there`,
      );
    }
    if (named.badPassword) {
      throw permanentFailure(
        PermanentFailure.AccessDenied,
        `PostgreSQL at ${target.host}:${target.port} refused the password (connection ${connection})`,
      );
    }
    return target;
  }

  async memberStatus(connection: string): Promise<PostgresMemberStatus> {
    this.state.calls.push(`memberStatus ${connection}`);
    const m = this.member(connection);
    const left = this.promotionPollsLeft.get(m);
    if (left !== undefined) {
      if (left <= 0) {
        m.inRecovery = false;
        this.promotionPollsLeft.delete(m);
      } else {
        this.promotionPollsLeft.set(m, left - 1);
      }
    }
    return {
      address: `${m.host}:${m.port}`,
      inRecovery: m.inRecovery,
      defaultReadOnly: m.readOnly,
      serverVersion: '15.fake',
    };
  }

  async standbyStatus(connection: string): Promise<StandbyStatus> {
    this.state.calls.push(`standbyStatus ${connection}`);
    const m = this.member(connection);
    return {
      inRecovery: m.inRecovery,
      walReceiverStatus: m.inRecovery ? m.walReceiverStatus : null,
      walSender: m.inRecovery && m.walReceiverStatus ? '127.0.0.2:5432' : null,
      receiveLsn: m.receiveLsn,
      replayLsn: m.replayLsn,
      pendingReplayBytes: m.pendingReplayBytes,
      lastReplayAgeMs: m.lastReplayAgeMs,
    };
  }

  async primaryReplication(connection: string): Promise<PrimaryReplication> {
    this.state.calls.push(`primaryReplication ${connection}`);
    const m = this.member(connection);
    return { currentLsn: m.currentLsn, standbys: m.standbys.map((s) => ({ ...s })) };
  }

  async promote(connection: string, _waitSeconds: number): Promise<boolean> {
    this.state.calls.push(`promote ${connection}`);
    const m = this.member(connection);
    if (!m.inRecovery || this.promotionPollsLeft.has(m)) {
      throw Object.assign(new Error('recovery is not in progress'), { code: '55000' });
    }
    this.state.promotions.push(connection);
    if (m.promoteDelayPolls <= 0) {
      m.inRecovery = false;
      return true;
    }
    this.promotionPollsLeft.set(m, m.promoteDelayPolls);
    return false;
  }

  async fence(connection: string): Promise<FenceResult> {
    this.state.calls.push(`fence ${connection}`);
    const m = this.member(connection);
    const settingChanged = !m.readOnly;
    m.readOnly = true;
    const terminatedSessions = m.openSessions;
    m.openSessions = 0;
    if (settingChanged || terminatedSessions > 0) this.state.fences.push(connection);
    return { settingChanged, terminatedSessions };
  }

  async unfence(connection: string): Promise<boolean> {
    this.state.calls.push(`unfence ${connection}`);
    const m = this.member(connection);
    const changed = m.readOnly;
    m.readOnly = false;
    if (changed) this.state.unfences.push(connection);
    return changed;
  }

  async writeTest(connection: string): Promise<WriteTestResult> {
    this.state.calls.push(`writeTest ${connection}`);
    const m = this.member(connection);
    const refused = '25006: cannot execute CREATE TABLE in a read-only transaction';
    if (m.inRecovery) return { accepted: false, refusal: refused, serverAddress: m.host };
    if (m.readOnly && !m.ignoresReadOnly) return { accepted: false, refusal: refused, serverAddress: m.host };
    return { accepted: true, refusal: null, serverAddress: m.host };
  }

  async probe(connection: string, options: ProbeOptions): Promise<ProbeResult> {
    this.state.calls.push(`probe ${connection}${options.host ? ` host=${options.host}` : ''}`);
    const m = this.member(connection, options.host);
    const address = `${m.host}:${m.port}`;
    if (!options.write) return { address, inRecovery: m.inRecovery, insertedId: null };
    if (m.inRecovery || m.readOnly) {
      throw Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    }
    const id = m.rows.length + 1;
    m.rows.push({ id, runId: options.runId });
    return { address, inRecovery: m.inRecovery, insertedId: String(id) };
  }
}
