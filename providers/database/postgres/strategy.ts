import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { durationToMs, formatMs } from '../../../runbooks/duration';
import type { CheckResult, PlannedChange } from '../../../activities/contracts';
import { PermanentFailure, permanentFailure, transientFailure } from '../../../activities/failures';
import { pollUntil } from '../../../activities/poll-until';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import type { DatabasePorts, DatabaseStrategy, PollPacing, TargetOf } from '../strategy';
import { isPostgresUnreachable, POSTGRES_UNREACHABLE } from '../../../activities/database/postgres-errors';
import type { PostgresMemberStatus, PrimaryReplication } from '../../../activities/database/postgres-port';
import { measureLag } from '../../../activities/database/replication-lag';
import { withHeartbeats } from '../../../activities/database/with-heartbeats';

type PostgresTarget = TargetOf<'postgres'>;

/** Seconds `pg_promote` waits for the standby to leave recovery before we fall back to polling. */
const PROMOTE_WAIT_SECONDS = 60;
/** SQLSTATE of `pg_promote` on a server that is not in recovery (already promoted, e.g. by an earlier attempt). */
const NOT_IN_RECOVERY = '55000';

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

  return {
    async check(name, t) {
      const results: CheckResult[] = [];
      let standby;
      try {
        standby = await postgres.standbyStatus(t.replica.connection);
      } catch (error) {
        return [
          checkLine(name, 'replica reachable', false, failureMessageOrThrow(error, isPostgresUnreachable)),
        ];
      }
      results.push(checkLine(name, 'replica reachable', true, `${member(name, t, 'replica')} answers`));
      if (!standby.inRecovery) {
        results.push(
          checkLine(
            name,
            'replica is a standby',
            false,
            `pg_is_in_recovery() is false on ${t.replica.endpoint}: it already takes writes (promoted earlier?); check which member is the primary before failing over`,
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
      try {
        primary = await postgres.primaryReplication(t.primary.connection);
        primaryNote = `primary ${t.primary.endpoint} answers, current WAL ${primary.currentLsn}`;
        results.push(checkLine(name, 'primary', true, primaryNote));
      } catch (error) {
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
      const status = await statusOrDown(t.primary.connection);
      return [
        {
          target: member(name, t, 'primary'),
          current: describeMember(status),
          desired: 'refuses writes (default_transaction_read_only = on, older sessions terminated)',
          willChange: status !== null && !status.inRecovery && !status.defaultReadOnly,
        },
      ];
    },

    async planPromote(name, t) {
      const status = await postgres.memberStatus(t.replica.connection);
      return {
        changes: [
          {
            target: member(name, t, 'replica'),
            current: describeMember(status),
            desired: 'primary: out of recovery, accepts writes',
            willChange: status.inRecovery,
          },
        ],
        writableEndpoint: t.replica.endpoint,
      };
    },

    async fence(name, t) {
      const status = await statusOrDown(t.primary.connection);
      const facts = { primary: t.primary.endpoint, primaryReachable: status !== null };
      if (status === null) {
        return {
          changed: false,
          summary: `old primary ${t.primary.endpoint} is unreachable: treated as down, nothing to fence`,
          facts,
        };
      }
      if (status.inRecovery) {
        return {
          changed: false,
          summary: `old primary ${t.primary.endpoint} is in recovery (a standby): it already refuses writes`,
          facts,
        };
      }
      const result = await postgres.fence(t.primary.connection);
      const confirm = await postgres.writeTest(t.primary.connection);
      if (confirm.accepted) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'primary')} still accepts writes after default_transaction_read_only = on; a role or database setting may override it (check ALTER ROLE/DATABASE … SET), or stop the server`,
        );
      }
      const changed = result.settingChanged || result.terminatedSessions > 0;
      return {
        changed,
        summary: changed
          ? `fenced ${t.primary.endpoint}: read-only${result.settingChanged ? ' set' : ' already set'}, ${result.terminatedSessions} older session(s) terminated; a new session's write is refused`
          : `${t.primary.endpoint} already refuses writes (default_transaction_read_only = on)`,
        facts: { ...facts, terminatedSessions: result.terminatedSessions, writeRefusal: confirm.refusal },
      };
    },

    async unfence(name, t) {
      const status = await statusOrDown(t.primary.connection);
      const facts = { primary: t.primary.endpoint, primaryReachable: status !== null };
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
      const changed = await postgres.unfence(t.primary.connection);
      const confirm = await postgres.writeTest(t.primary.connection);
      if (!confirm.accepted) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'primary')} still refuses writes after ALTER SYSTEM RESET default_transaction_read_only (${confirm.refusal ?? '?'}); a role or database setting may force it (check ALTER ROLE/DATABASE … SET default_transaction_read_only)`,
        );
      }
      return {
        changed,
        summary: changed
          ? `unfenced ${t.primary.endpoint}: default_transaction_read_only reset; a new session's write is accepted`
          : `${t.primary.endpoint} was not fenced: a new session's write is accepted`,
        facts,
      };
    },

    async promote(name, t) {
      const connection = t.replica.connection;
      const before = await postgres.memberStatus(connection);
      let changed = false;
      if (before.inRecovery) {
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
      const write = await postgres.writeTest(connection);
      if (!write.accepted) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${member(name, t, 'replica')} is out of recovery but refuses writes (${write.refusal ?? '?'}); check default_transaction_read_only there (ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf())`,
        );
      }
      const writableEndpoint = await endpointWhereWriteLanded(name, t, write.serverAddress);
      return {
        changed,
        summary:
          (changed
            ? `promoted ${writableEndpoint}: out of recovery and a write succeeded`
            : `${writableEndpoint} was already promoted (not in recovery); a write succeeded`) +
          (writableEndpoint === t.replica.endpoint ? '' : ` (the runbook says ${t.replica.endpoint})`),
        facts: {
          writableEndpoint,
          writeLandedAt: write.serverAddress,
          runbookEndpoint: t.replica.endpoint,
          serverVersion: before.serverVersion,
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

function describeMember(status: PostgresMemberStatus | null): string {
  if (status === null) return 'unreachable (treated as down)';
  if (status.inRecovery) return 'standby (in recovery), refuses writes';
  return status.defaultReadOnly ? 'primary, read-only (fenced)' : 'primary, accepts writes';
}
