import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { durationToMs, formatMs } from '../../../runbooks/duration';
import type { CheckResult, PlannedChange } from '../../../activities/contracts';
import { PermanentFailure, permanentFailure, transientFailure } from '../../../activities/failures';
import { currentFenceRef, pollUntil } from '../../../activities/poll-until';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import { lsnDiff } from '../../../activities/database/lsn';
import type { DatabasePorts, DatabaseStrategy, PollPacing, StepContext, TargetOf } from '../strategy';
import { isPostgresUnreachable, POSTGRES_UNREACHABLE } from '../../../activities/database/postgres-errors';
import type {
  FenceStatus,
  PostgresMemberStatus,
  PrimaryReplication,
  StandbyStatus,
} from '../../../activities/database/postgres-port';
import { measureLag } from '../../../activities/database/replication-lag';
import { withHeartbeats } from '../../../activities/database/with-heartbeats';

type PostgresTarget = TargetOf<'postgres'>;

/** Seconds the promotion waits for the standby to leave recovery before we fall back to polling. */
const PROMOTE_WAIT_SECONDS = 60;
/** SQLSTATE of `pg_promote` on a server that is not in recovery (already promoted, e.g. by an earlier attempt). */
const NOT_IN_RECOVERY = '55000';

type Facts = Record<string, string | number | boolean | null>;

/** Self-managed PostgreSQL streaming replication: check, fence the old primary, promote the standby. */
export function createStrategy(
  { postgres }: DatabasePorts,
  poll: PollPacing = {},
): DatabaseStrategy<PostgresTarget> {
  const member = (name: string, t: PostgresTarget, role: 'primary' | 'replica') =>
    `postgres ${t[role].endpoint} (${name} ${role}, connection ${t[role].connection})`;

  /** The member's status, or null when it does not answer. */
  async function statusOrDown(connection: string): Promise<PostgresMemberStatus | null> {
    try {
      return await postgres.memberStatus(connection);
    } catch (error) {
      if (isPostgresUnreachable(error)) return null;
      throw error;
    }
  }

  async function primaryOrDown(connection: string): Promise<PrimaryReplication | null> {
    try {
      return await postgres.primaryReplication(connection);
    } catch (error) {
      if (isPostgresUnreachable(error)) return null;
      throw error;
    }
  }

  /**
   * Before promoting: when the old primary answers, wait (at most maxLag) until the replica has replayed every
   * WAL byte the primary flushed (every acknowledged commit lies at or before its flush position), so a fenced
   * primary's last writes are not lost. When it does not answer, nothing can be waited for: record how much may
   * be lost, from the replica's last replayed transaction.
   */
  async function waitForCatchUp(
    name: string,
    t: PostgresTarget,
    context: StepContext,
  ): Promise<{ summary: string; facts: Facts }> {
    const primary = await primaryOrDown(t.primary.connection);
    if (primary === null) {
      if (context.mode === 'planned') {
        throw permanentFailure(
          PermanentFailure.PrimaryUnreachable,
          `${member(name, t, 'primary')} does not answer: a planned promotion needs it reachable to promote without loss; if this is an outage, fail over with an unplanned runbook (mode: 'unplanned')`,
        );
      }
      const standby = await postgres.standbyStatus(t.replica.connection);
      return lossEstimate(t, standby);
    }
    const primaryStatus = await postgres.memberStatus(t.primary.connection);
    const fenced = primaryStatus.defaultReadOnly;
    if (!fenced && context.mode === 'planned') {
      throw permanentFailure(
        PermanentFailure.UnsafeOrder,
        `${member(name, t, 'primary')} still takes writes: a planned promotion fences the old primary first (a database.fence step of "${name}" before this one), so no write lands after the replica's last WAL`,
      );
    }
    const target = primary.flushLsn;
    const maxLagMs = durationToMs(t.maxLag);
    const started = Date.now();
    if (context.approvals.dataLoss !== undefined && context.mode === 'unplanned') {
      const standby = await postgres.standbyStatus(t.replica.connection);
      const behind = standby.replayLsn === null ? null : lsnDiff(target, standby.replayLsn);
      return {
        summary: `promoted without waiting for the replica to catch up, approved by ${context.approvals.dataLoss}: it was ${behind ?? '?'} bytes of WAL behind the old primary (${target})`,
        facts: {
          primaryFinalLsn: target,
          replayLsnAtPromotion: standby.replayLsn,
          bytesNotReplayed: behind,
          dataLossApprovedBy: context.approvals.dataLoss,
        },
      };
    }
    const caughtUp = await pollUntil(
      () => postgres.standbyStatus(t.replica.connection),
      (s) => (s.replayLsn !== null && lsnDiff(s.replayLsn, target) >= 0) || Date.now() - started >= maxLagMs,
      {
        ...poll,
        describe: (s) => ({
          waitingFor: `${t.replica.endpoint} to replay the old primary's WAL up to ${target}`,
          replayLsn: s.replayLsn,
        }),
      },
    );
    const behind = caughtUp.replayLsn === null ? null : lsnDiff(target, caughtUp.replayLsn);
    if (behind === null || behind > 0) {
      throw permanentFailure(
        PermanentFailure.ReplicaNotCaughtUp,
        `${member(name, t, 'replica')} replayed WAL up to ${caughtUp.replayLsn ?? 'nothing'}, ${behind ?? '?'} bytes short of the old primary's last WAL (${target}), after waiting maxLag ${t.maxLag}; promoting now would lose those writes. Check the replica's WAL receiver (pg_stat_wal_receiver), then retry to wait again${context.mode === 'unplanned' ? ', or approve promoting with that loss' : ''}`,
        { primaryFinalLsn: target, replayLsn: caughtUp.replayLsn, bytesBehind: behind },
      );
    }
    const waited = Date.now() - started;
    return {
      summary: `the replica had replayed the ${fenced ? 'fenced ' : ''}old primary's WAL up to ${target} (waited ${formatMs(waited)}): nothing acknowledged is lost`,
      facts: { primaryFinalLsn: target, caughtUpAfterMs: waited, primaryFenced: fenced },
    };
  }

  function lossEstimate(t: PostgresTarget, standby: StandbyStatus): { summary: string; facts: Facts } {
    const windowMs =
      standby.lastReplayAgeMs === null ? null : Math.max(0, Math.round(standby.lastReplayAgeMs));
    const since = standby.lastReplayedAt;
    return {
      summary:
        since === null
          ? `old primary ${t.primary.endpoint} unreachable: the replica has replayed no transaction, so the loss window cannot be estimated`
          : `old primary ${t.primary.endpoint} unreachable: transactions it committed after ${since} (the replica's last replayed one) may be lost — a loss window of up to ${formatMs(windowMs ?? 0)}`,
      facts: {
        primaryReachable: false,
        lastReplayedTransactionAt: since,
        estimatedLossWindowMs: windowMs,
        receivedNotReplayedBytes: standby.pendingReplayBytes,
      },
    };
  }

  return {
    async check(name, t) {
      const results: CheckResult[] = [];
      // Both members are read at once (read-only sessions): pre-flight waits for the slower, not for the sum.
      const [standbyRead, primaryRead] = await Promise.allSettled([
        postgres.standbyStatus(t.replica.connection),
        postgres.primaryReplication(t.primary.connection),
      ]);
      if (standbyRead.status === 'rejected') {
        return [
          checkLine(
            name,
            'replica reachable',
            false,
            failureMessageOrThrow(standbyRead.reason, isPostgresUnreachable),
          ),
        ];
      }
      const standby = standbyRead.value;
      results.push(checkLine(name, 'replica reachable', true, `${member(name, t, 'replica')} answers`));
      if (!standby.inRecovery) {
        results.push(
          checkLine(
            name,
            'replica is a standby',
            false,
            `pg_is_in_recovery() is false on ${t.replica.endpoint}: it is not a standby (promoted earlier, or a former primary, fenced or not, never rebuilt as a replica of the current one: a failback needs that first); check which member is the primary`,
          ),
        );
        return results;
      }
      results.push(
        checkLine(name, 'replica is a standby', true, `pg_is_in_recovery() is true on ${t.replica.endpoint}`),
      );

      let primary: PrimaryReplication | null = null;
      let primaryDown = false;
      let primaryNote: string;
      if (primaryRead.status === 'fulfilled') {
        primary = primaryRead.value;
        primaryNote = `primary ${t.primary.endpoint} answers, current WAL ${primary.currentLsn}`;
        results.push(checkLine(name, 'primary', true, primaryNote));
      } else {
        const error: unknown = primaryRead.reason;
        primaryNote = failureMessageOrThrow(error, isPostgresUnreachable);
        const down = isPostgresUnreachable(error);
        primaryDown = down;
        results.push(
          checkLine(
            name,
            'primary',
            down,
            down ? `unreachable, treated as down: ${primaryNote}` : primaryNote,
          ),
        );
      }
      if (primary !== null) {
        results.push(
          applicationRolesCheck(
            name,
            t,
            await postgres.fenceStatus(t.primary.connection, t.applicationRoles),
          ),
        );
      }

      const receiver = standby.walReceiverStatus;
      if (receiver === 'streaming') {
        results.push(
          checkLine(
            name,
            'WAL receiver streaming',
            true,
            `streaming from ${standby.walSender ?? '?'}, received up to ${standby.receiveLsn ?? '?'}`,
          ),
        );
      } else if (primaryDown) {
        results.push(
          checkLine(
            name,
            'WAL receiver streaming',
            true,
            `not streaming (status ${receiver ?? 'no WAL receiver'}), expected while the primary is down; last received ${standby.receiveLsn ?? '?'}`,
          ),
        );
      } else {
        results.push(
          checkLine(
            name,
            'WAL receiver streaming',
            false,
            `not streaming (status ${receiver ?? 'no WAL receiver'}) although the primary answers; check primary_conninfo and the replica's log`,
          ),
        );
      }

      const maxLagMs = durationToMs(t.maxLag);
      const lag = measureLag(standby, primary, t.replica.endpoint);
      if (lag.lagMs === null) {
        results.push(
          checkLine(
            name,
            'replication lag',
            false,
            `could not be measured (${lag.method}); check replication by hand`,
          ),
        );
      } else {
        const ok = lag.lagMs <= maxLagMs;
        results.push(
          checkLine(
            name,
            'replication lag',
            ok,
            `${formatMs(lag.lagMs)} ${ok ? '≤' : '>'} maxLag ${t.maxLag} (${lag.method})${ok ? '' : '; wait for the replica to catch up, or raise maxLag if that loss is acceptable'}`,
          ),
        );
      }
      return results;
    },

    async planFence(name, t): Promise<PlannedChange[]> {
      const read = await postgres
        .memberAndFenceStatus(t.primary.connection, t.applicationRoles)
        .catch((error: unknown) => {
          if (isPostgresUnreachable(error)) return null;
          throw error;
        });
      const status = read?.member ?? null;
      const roles = read?.fence ?? null;
      const canLogin = roles?.roles.filter((r) => r.canLogin).map((r) => r.role) ?? [];
      const sessions = roles?.roles.reduce((sum, r) => sum + r.sessions, 0) ?? 0;
      return [
        {
          target: member(name, t, 'primary'),
          current:
            roles === null
              ? describeMember(status)
              : `${describeMember(status)}; application roles that can log in: ${canLogin.join(', ') || 'none'} (${sessions} session(s))`,
          desired: `application roles ${t.applicationRoles.join(', ')} cannot log in and have no sessions; default_transaction_read_only = on`,
          willChange:
            status !== null &&
            !status.inRecovery &&
            (!status.defaultReadOnly || canLogin.length > 0 || sessions > 0),
        },
      ];
    },

    async planPromote(name, t, context) {
      const status = await postgres.memberStatus(t.replica.connection);
      return {
        changes: [
          {
            target: member(name, t, 'replica'),
            current: describeMember(status),
            desired:
              context.mode === 'planned'
                ? "primary: out of recovery once it has replayed the fenced primary's last WAL (nothing lost), accepts writes"
                : 'primary: out of recovery, accepts writes',
            willChange: status.inRecovery,
          },
        ],
        writableEndpoint: t.replica.endpoint,
      };
    },

    async fence(name, t, context) {
      const status = await statusOrDown(t.primary.connection);
      const facts: Facts = { primary: t.primary.endpoint, primaryReachable: status !== null };
      if (status === null) {
        if (context.mode === 'planned') {
          throw permanentFailure(
            PermanentFailure.PrimaryUnreachable,
            `${member(name, t, 'primary')} does not answer: a planned failover fences a reachable primary; if this is an outage, use an unplanned runbook (mode: 'unplanned'), which asks two people before going on unfenced`,
          );
        }
        return {
          changed: false,
          summary: `old primary ${t.primary.endpoint} is unreachable: it could not be fenced`,
          facts: { ...facts, unreachable: 'host' },
        };
      }
      if (status.inRecovery) {
        return {
          changed: false,
          summary: `old primary ${t.primary.endpoint} is in recovery (a standby): it already refuses writes`,
          facts,
        };
      }
      const fenceId = currentFenceRef(context.fenceRun);
      // One call that may wait long: on a lock of the role catalog, on each session it ends (up to 5 s apiece).
      // Without heartbeats Temporal would take a slow fence for a dead worker and start it again beside itself.
      const result = await withHeartbeats(
        () => postgres.fence(t.primary.connection, { applicationRoles: t.applicationRoles, fenceId }),
        { waitingFor: `the fence of ${t.primary.endpoint}: logins revoked, sessions ended` },
      );
      const after = await postgres.fenceStatus(t.primary.connection, t.applicationRoles);
      const leaks = after.roles.filter((r) => r.canLogin || r.sessions > 0);
      if (leaks.length > 0) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'primary')} is not fenced: ${leaks.map((r) => `${r.role} ${r.canLogin ? 'can still log in' : `still has ${r.sessions} session(s)`}`).join(', ')}; check that drctl's connection role may ALTER ROLE and signal backends, then retry`,
        );
      }
      const confirm = await postgres.writeTest(t.primary.connection);
      if (confirm.accepted) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'primary')} still accepts writes from a new session after default_transaction_read_only = on; a role or database setting may override it (check ALTER ROLE/DATABASE … SET), or stop the server`,
        );
      }
      const own = result.ownFence;
      const what = [
        result.loginRevoked.length > 0
          ? `login revoked for ${result.loginRevoked.join(', ')}`
          : 'application roles already could not log in',
        result.readOnlySet ? 'read-only default set' : 'read-only default already on',
        `${result.terminatedSessions} session(s) terminated`,
      ].join(', ');
      return {
        changed: own,
        summary: own
          ? `fenced ${t.primary.endpoint}: ${what}; the application cannot connect, and a new session's write is refused`
          : `${t.primary.endpoint} was already fenced (by ${result.fencedBy}): the application cannot connect; ${result.terminatedSessions} session(s) terminated`,
        facts: {
          ...facts,
          applicationRoles: t.applicationRoles.join(', '),
          loginRevoked: result.loginRevoked.join(', '),
          readOnlySet: result.readOnlySet,
          terminatedSessions: result.terminatedSessions,
          writeRefusal: confirm.refusal,
          fenceId: result.fencedBy,
          // Another fence's markers on a fence already whole: the step's recorded undo (from its plan) is not
          // this run's. Markers left by a fence lifted by hand do not count: then this call fenced.
          ...(own || result.changedNow ? {} : { fencedByAnother: true }),
        },
        ...(own ? { undo: { fenceId } } : {}),
      };
    },

    async unfence(name, t, undo) {
      const status = await statusOrDown(t.primary.connection);
      const facts: Facts = { primary: t.primary.endpoint, primaryReachable: status !== null };
      if (status === null) {
        throw transientFailure(
          POSTGRES_UNREACHABLE,
          `old primary ${t.primary.endpoint} (connection ${t.primary.connection}) is unreachable: cannot unfence it; retrying until it is back up (start it, or abort without rollback)`,
        );
      }
      if (status.inRecovery) {
        return {
          changed: false,
          summary: `old primary ${t.primary.endpoint} is in recovery (a standby): the fence changes nothing there, nothing to undo`,
          facts,
        };
      }
      const fenceId = typeof undo.fenceId === 'string' ? undo.fenceId : undefined;
      const result = await withHeartbeats(
        () => postgres.unfence(t.primary.connection, t.applicationRoles, fenceId),
        { waitingFor: `the undo of the fence of ${t.primary.endpoint}` },
      );
      if (result.markersCleared.length === 0) {
        return {
          changed: false,
          summary: `${t.primary.endpoint} carries no marker of ${fenceId === undefined ? "any fence of drctl's" : `fence ${fenceId}`}: nothing of it to undo${result.otherFences.length > 0 ? ` (fenced by ${result.otherFences.join(', ')}, left in place)` : ''}`,
          facts,
        };
      }
      const after = await postgres.fenceStatus(t.primary.connection, t.applicationRoles);
      const stillLocked = after.roles.filter((r) => result.loginRestored.includes(r.role) && !r.canLogin);
      if (stillLocked.length > 0) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'primary')}: ${stillLocked.map((r) => r.role).join(', ')} still cannot log in after ALTER ROLE … LOGIN; check that drctl's connection role may alter them`,
        );
      }
      if (result.readOnlyReset) {
        const confirm = await postgres.writeTest(t.primary.connection);
        if (!confirm.accepted) {
          throw permanentFailure(
            PermanentFailure.InvalidState,
            `${member(name, t, 'primary')} still refuses writes after ALTER SYSTEM RESET default_transaction_read_only (${confirm.refusal ?? '?'}); a role or database setting may force it (check ALTER ROLE/DATABASE … SET default_transaction_read_only)`,
          );
        }
      }
      return {
        changed: true,
        summary: `unfenced ${t.primary.endpoint}: ${result.loginRestored.length > 0 ? `login restored for ${result.loginRestored.join(', ')}` : 'no login to restore'}${result.readOnlyReset ? ', read-only default reset' : ''}; roles that could not log in before the fence still cannot`,
        facts: {
          ...facts,
          loginRestored: result.loginRestored.join(', '),
          readOnlyReset: result.readOnlyReset,
        },
      };
    },

    async promote(name, t, context) {
      const connection = t.replica.connection;
      const before = await postgres.memberStatus(connection);
      let changed = false;
      let catchUp: { summary: string; facts: Facts } | undefined;
      if (before.inRecovery) {
        catchUp = await waitForCatchUp(name, t, context);
        try {
          await withHeartbeats(() => postgres.promote(connection, PROMOTE_WAIT_SECONDS), {
            waitingFor: `pg_promote on ${t.replica.endpoint}`,
          });
          changed = true;
        } catch (error) {
          if ((error as { code?: string }).code !== NOT_IN_RECOVERY) throw error;
        }
        await pollUntil(
          () => postgres.memberStatus(connection),
          (s) => !s.inRecovery,
          {
            ...poll,
            describe: (s) => ({
              waitingFor: `${t.replica.endpoint} to leave recovery`,
              inRecovery: s.inRecovery,
            }),
          },
        );
      }
      // The fence's NOLOGIN replicated here; on the new primary the application must log in again.
      const loginRestored = await postgres.liftFence(connection, t.applicationRoles);
      const write = await postgres.writeTest(connection);
      if (!write.accepted) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'replica')} is out of recovery but refuses writes (${write.refusal ?? '?'}); check default_transaction_read_only there (ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf())`,
        );
      }
      const writableEndpoint = await endpointWhereWriteLanded(name, t, write.serverAddress);
      const lifted =
        loginRestored.length > 0
          ? `; login restored for ${loginRestored.join(', ')} (the fence had replicated)`
          : '';
      return {
        changed,
        summary:
          (changed
            ? `promoted ${writableEndpoint}: out of recovery and a write succeeded${catchUp ? `; ${catchUp.summary}` : ''}`
            : `${writableEndpoint} was already promoted (not in recovery); a write succeeded`) +
          lifted +
          (writableEndpoint === t.replica.endpoint ? '' : ` (the runbook says ${t.replica.endpoint})`),
        facts: {
          writableEndpoint,
          writeLandedAt: write.serverAddress,
          runbookEndpoint: t.replica.endpoint,
          serverVersion: before.serverVersion,
          ...(catchUp?.facts ?? {}),
          ...(loginRestored.length > 0 ? { loginRestored: loginRestored.join(', ') } : {}),
        },
        writableEndpoint,
      };
    },
  };
}

/**
 * Where DNS may point after a promotion: the address the write test actually reached, not the runbook's text.
 * An IP endpoint is replaced by the address the write landed on; a host name is kept only if it resolves to
 * that address (a CNAME needs the name), else the promotion fails rather than send clients elsewhere.
 */
async function endpointWhereWriteLanded(
  name: string,
  t: PostgresTarget,
  landed: string | null,
): Promise<string> {
  if (landed === null) return t.replica.endpoint;
  if (isIP(t.replica.endpoint) !== 0) return landed;
  const resolved = await lookup(t.replica.endpoint, { all: true }).catch(() => []);
  if (resolved.some((entry) => entry.address === landed)) return t.replica.endpoint;
  throw permanentFailure(
    PermanentFailure.InvalidState,
    `the write test of ${name}'s promoted replica landed on ${landed}, but the runbook's replica endpoint ${t.replica.endpoint} resolves to ${resolved.map((entry) => entry.address).join(', ') || 'nothing'}; ` +
      `DNS would send clients elsewhere. Fix targets.databases.${name}.replica.endpoint or the connection ${t.replica.connection}, then retry`,
  );
}

function applicationRolesCheck(name: string, t: PostgresTarget, status: FenceStatus): CheckResult {
  const missing = status.roles.filter((r) => !r.exists).map((r) => r.role);
  if (missing.length > 0) {
    return checkLine(
      name,
      'application roles',
      false,
      `${missing.join(', ')} do not exist on ${t.primary.endpoint}; fix applicationRoles (a misspelt role leaves the real one able to write after the fence)`,
    );
  }
  return checkLine(
    name,
    'application roles',
    true,
    status.roles
      .map((r) => `${r.role}: ${r.canLogin ? 'can log in' : 'cannot log in'}, ${r.sessions} session(s)`)
      .join('; '),
  );
}

function describeMember(status: PostgresMemberStatus | null): string {
  if (status === null) return 'unreachable (treated as down)';
  if (status.inRecovery) return 'standby (in recovery), refuses writes';
  return status.defaultReadOnly ? 'primary, read-only (fenced)' : 'primary, accepts writes';
}
