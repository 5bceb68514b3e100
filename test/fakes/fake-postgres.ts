import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { isPostgresUnreachable, POSTGRES_UNREACHABLE } from '../../activities/database/postgres-errors';
import type {
  FenceMarker,
  FenceRequest,
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
} from '../../activities/database/postgres-port';

/** A role in the fake's catalog. Catalogs replicate: a standby shares its primary's roles until it is promoted. */
export interface FakePgRole {
  canLogin: boolean;
  /** Client sessions of this role open now. */
  sessions: number;
  marker: FenceMarker | null;
}

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
  /** Roles by name; shared with the standby (a replicated catalog) until it is promoted. */
  roles: Map<string, FakePgRole>;
  /** The primary's `pg_current_wal_flush_lsn()`. */
  flushLsn: string;
  lastReplayedAt: string | null;
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
    /** Connection name → the role it logs in as, where that is an application role (absent: an admin login). */
    loginRoles: new Map<string, string>(),
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
      roles: new Map(),
      flushLsn: member.currentLsn ?? '0/3000000',
      lastReplayedAt: null,
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
    primary.roles.set('ehr_app', { canLogin: true, sessions: 0, marker: null });
    pg.state.loginRoles.set('ehr-app', 'ehr_app');
    const replica = pg.addMember(['ehr-replica'], {
      host: '127.0.0.3',
      roles: primary.roles,
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
    // As the real server: a role without LOGIN (what drctl's fence leaves) cannot open a session (SQLSTATE 28000).
    const loginRole = this.state.loginRoles.get(connection);
    if (loginRole !== undefined && target.roles.get(loginRole)?.canLogin === false) {
      throw permanentFailure(
        PermanentFailure.AccessDenied,
        `PostgreSQL at ${target.host}:${target.port} refused user ${loginRole} (connection ${connection}): role "${loginRole}" is not permitted to log in; fix the credentials in DRCTL_PG_${connection.toUpperCase().replace(/-/g, '_')}_URL or postgres.connections.${connection}`,
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
      lastReplayedAt: m.lastReplayedAt,
    };
  }

  async primaryReplication(connection: string): Promise<PrimaryReplication> {
    this.state.calls.push(`primaryReplication ${connection}`);
    const m = this.member(connection);
    return {
      currentLsn: m.currentLsn,
      flushLsn: m.flushLsn,
      standbys: m.standbys.map((s) => ({ ...s })),
    };
  }

  async promote(connection: string, _waitSeconds: number): Promise<boolean> {
    this.state.calls.push(`promote ${connection}`);
    const m = this.member(connection);
    if (!m.inRecovery || this.promotionPollsLeft.has(m)) {
      throw Object.assign(new Error('recovery is not in progress'), { code: '55000' });
    }
    this.state.promotions.push(connection);
    // Out of recovery the catalog no longer follows the old primary.
    m.roles = new Map([...m.roles].map(([name, role]) => [name, { ...role }]));
    if (m.promoteDelayPolls <= 0) {
      m.inRecovery = false;
      return true;
    }
    this.promotionPollsLeft.set(m, m.promoteDelayPolls);
    return false;
  }

  async fence(connection: string, request: FenceRequest): Promise<FenceResult> {
    this.state.calls.push(`fence ${connection}`);
    const m = this.member(connection);
    if (m.inRecovery)
      throw Object.assign(new Error('cannot execute ALTER ROLE in a read-only transaction'), {
        code: '25006',
      });
    const missing = request.applicationRoles.filter((r) => !m.roles.has(r));
    if (missing.length > 0) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        `application role(s) ${missing.join(', ')} do not exist on ${m.host}:${m.port}; fix applicationRoles`,
      );
    }
    const roles = request.applicationRoles.map((name) => [name, m.roles.get(name)!] as const);
    const changedNow = roles.some(([, r]) => r.canLogin) || !m.readOnly;
    const fencedBy = roles.find(([, r]) => r.marker !== null)?.[1].marker?.fenceId ?? request.fenceId;
    for (const [, role] of roles) {
      const stale = role.marker !== null && !role.marker.loginRevoked && role.canLogin;
      if (role.marker === null || stale) {
        role.marker = { fenceId: request.fenceId, loginRevoked: role.canLogin, readOnlySet: !m.readOnly };
      }
    }
    let terminated = m.openSessions;
    m.openSessions = 0;
    for (const [, role] of roles) {
      role.canLogin = false;
      terminated += role.sessions;
      role.sessions = 0;
    }
    m.readOnly = true;
    const own = roles.filter(([, r]) => r.marker?.fenceId === request.fenceId);
    if (own.length > 0) this.state.fences.push(connection);
    return {
      ownFence: own.length > 0,
      changedNow,
      fencedBy: own.length > 0 ? request.fenceId : fencedBy,
      loginRevoked: own.filter(([, r]) => r.marker?.loginRevoked).map(([name]) => name),
      readOnlySet: own.some(([, r]) => r.marker?.readOnlySet),
      terminatedSessions: terminated,
    };
  }

  async unfence(connection: string, applicationRoles: string[], fenceId?: string): Promise<UnfenceResult> {
    this.state.calls.push(`unfence ${connection}`);
    const m = this.member(connection);
    const roles = applicationRoles.flatMap((name) => {
      const role = m.roles.get(name);
      return role === undefined ? [] : [[name, role] as const];
    });
    const mine = roles.filter(
      ([, r]) => r.marker !== null && (fenceId === undefined || r.marker.fenceId === fenceId),
    );
    const others = roles.filter(([, r]) => r.marker !== null && !mine.some(([, own]) => own === r));
    const loginRestored: string[] = [];
    for (const [name, role] of mine) {
      if (role.marker?.loginRevoked && !role.canLogin) {
        role.canLogin = true;
        loginRestored.push(name);
      }
    }
    const readOnlyReset = others.length === 0 && mine.some(([, r]) => r.marker?.readOnlySet) && m.readOnly;
    if (readOnlyReset) m.readOnly = false;
    for (const [, role] of mine) role.marker = null;
    if (mine.length > 0) this.state.unfences.push(connection);
    return {
      loginRestored,
      readOnlyReset,
      markersCleared: mine.map(([name]) => name),
      otherFences: [...new Set(others.map(([, r]) => r.marker?.fenceId ?? ''))],
    };
  }

  async liftFence(connection: string, applicationRoles: string[]): Promise<string[]> {
    this.state.calls.push(`liftFence ${connection}`);
    const m = this.member(connection);
    if (m.inRecovery)
      throw Object.assign(new Error('cannot execute ALTER ROLE in a read-only transaction'), {
        code: '25006',
      });
    const restored: string[] = [];
    for (const name of applicationRoles) {
      const role = m.roles.get(name);
      if (role?.marker == null) continue;
      if (role.marker.loginRevoked && !role.canLogin) {
        role.canLogin = true;
        restored.push(name);
      }
      role.marker = null;
    }
    return restored;
  }

  async memberAndFenceStatus(
    connection: string,
    applicationRoles: string[],
  ): Promise<{ member: PostgresMemberStatus; fence: FenceStatus | null }> {
    const member = await this.memberStatus(connection);
    if (member.inRecovery) return { member, fence: null };
    try {
      return { member, fence: await this.fenceStatus(connection, applicationRoles) };
    } catch (error) {
      // As the adapter: once the member answered, a lost session is not "the member is down".
      if (!isPostgresUnreachable(error)) throw error;
      throw transientFailure('PostgresReadFailed', (error as Error).message);
    }
  }

  async fenceStatus(connection: string, applicationRoles: string[]): Promise<FenceStatus> {
    this.state.calls.push(`fenceStatus ${connection}`);
    const m = this.member(connection);
    return {
      roles: applicationRoles.map((name) => {
        const role = m.roles.get(name);
        return {
          role: name,
          exists: role !== undefined,
          canLogin: role?.canLogin ?? false,
          sessions: role?.sessions ?? 0,
          marker: role?.marker ? { ...role.marker } : null,
        };
      }),
      defaultReadOnly: m.readOnly,
    };
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
