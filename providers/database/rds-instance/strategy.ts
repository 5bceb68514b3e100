import type { CheckResult } from '../../../activities/contracts';
import { PermanentFailure, permanentFailure } from '../../../activities/failures';
import { pollUntil } from '../../../activities/poll-until';
import { checkLine, failureMessageOrThrow } from '../../../activities/database/check-result';
import type { DatabasePorts, DatabaseStrategy, PollPacing, TargetOf } from '../strategy';
import { sourceNames, type RdsInstance } from '../../../activities/database/rds-port';

type RdsTarget = TargetOf<'rds-instance'>;

/** Statuses in which a stopped-or-stopping primary takes no more writes. */
const STOPPED = new Set(['stopped', 'stopping']);

/** An RDS instance with a read replica: check, stop the old primary, promote the replica. */
export function createStrategy({ rds }: DatabasePorts, poll: PollPacing = {}): DatabaseStrategy<RdsTarget> {
  const label = (name: string, t: RdsTarget, role: 'primary' | 'replica') =>
    `rds ${t[role].instanceId} in ${t[role].region} (${name} ${role})`;

  async function requireReplica(name: string, t: RdsTarget): Promise<RdsInstance> {
    const replica = await rds.describeInstance(t.replica.region, t.replica.instanceId);
    if (replica === null) {
      throw permanentFailure(
        PermanentFailure.ReplicaNotFound,
        `${label(name, t, 'replica')} does not exist; check replica.instanceId and replica.region in the runbook`,
      );
    }
    return replica;
  }

  return {
    async check(name, t) {
      const results: CheckResult[] = [];
      let replica: RdsInstance | null;
      try {
        replica = await rds.describeInstance(t.replica.region, t.replica.instanceId);
      } catch (error) {
        return [
          checkLine(
            name,
            'replica exists',
            false,
            failureMessageOrThrow(error, () => false),
          ),
        ];
      }
      if (replica === null) {
        return [
          checkLine(
            name,
            'replica exists',
            false,
            `${label(name, t, 'replica')} not found; check the id and region in the runbook`,
          ),
        ];
      }
      results.push(
        checkLine(
          name,
          'replica exists',
          true,
          `${replica.instanceId} found, endpoint ${replica.endpoint ?? '?'}`,
        ),
      );
      const source = replica.replicaOf;
      const ofPrimary = source !== null && sourceNames(source, t.primary.instanceId);
      results.push(
        checkLine(
          name,
          'replica of the primary',
          ofPrimary,
          ofPrimary
            ? `ReadReplicaSourceDBInstanceIdentifier is ${source}`
            : source === null
              ? `${replica.instanceId} is not a read replica (promoted already?); check which instance is the primary`
              : `${replica.instanceId} replicates from ${source}, not ${t.primary.instanceId}; fix primary.instanceId in the runbook`,
        ),
      );
      results.push(
        checkLine(
          name,
          'replica available',
          replica.status === 'available',
          `status ${replica.status}${replica.status === 'available' ? '' : '; wait until it is available'}`,
        ),
      );
      try {
        const primary = await rds.describeInstance(t.primary.region, t.primary.instanceId);
        results.push(
          checkLine(
            name,
            'primary',
            true,
            primary === null
              ? `${t.primary.instanceId} not found (treated as gone)`
              : `${t.primary.instanceId} status ${primary.status}`,
          ),
        );
      } catch (error) {
        results.push(
          checkLine(
            name,
            'primary',
            false,
            failureMessageOrThrow(error, () => false),
          ),
        );
      }
      results.push(
        checkLine(
          name,
          'replication lag',
          true,
          `not measured: drctl reads no CloudWatch ReplicaLag yet (the local emulator has none); confirm it is ≤ ${t.maxLag} in CloudWatch before approving`,
        ),
      );
      return results;
    },

    async planFence(name, t) {
      const primary = await rds.describeInstance(t.primary.region, t.primary.instanceId);
      const current = primary === null ? 'not found (treated as gone)' : `status ${primary.status}`;
      if (t.fence === 'none') {
        return [
          {
            target: label(name, t, 'primary'),
            current,
            desired: 'left as is (fence: none)',
            willChange: false,
          },
        ];
      }
      return [
        {
          target: label(name, t, 'primary'),
          current,
          desired: 'stopped (StopDBInstance)',
          willChange: primary !== null && !STOPPED.has(primary.status),
        },
      ];
    },

    async planPromote(name, t) {
      const replica = await requireReplica(name, t);
      return {
        changes: [
          {
            target: label(name, t, 'replica'),
            current:
              replica.replicaOf === null
                ? `standalone (not a replica), status ${replica.status}`
                : `read replica of ${replica.replicaOf}, status ${replica.status}`,
            desired: 'standalone primary (PromoteReadReplica), available',
            willChange: replica.replicaOf !== null,
          },
        ],
        writableEndpoint: requireEndpoint(replica.endpoint, label(name, t, 'replica')),
      };
    },

    async fence(name, t) {
      const facts = { primary: t.primary.instanceId, region: t.primary.region };
      if (t.fence === 'none') {
        return { changed: false, summary: `fence is 'none': ${t.primary.instanceId} left as is`, facts };
      }
      const primary = await rds.describeInstance(t.primary.region, t.primary.instanceId);
      if (primary === null) {
        return {
          changed: false,
          summary: `${label(name, t, 'primary')} not found: treated as gone, nothing to stop`,
          facts,
        };
      }
      let changed = false;
      if (!STOPPED.has(primary.status)) {
        await rds.stopInstance(t.primary.region, t.primary.instanceId);
        changed = true;
      }
      const final = await pollUntil(
        () => rds.describeInstance(t.primary.region, t.primary.instanceId),
        (i) => i === null || i.status === 'stopped',
        {
          ...poll,
          describe: (i) => ({ waitingFor: `${t.primary.instanceId} to stop`, status: i?.status ?? 'gone' }),
        },
      );
      return {
        changed,
        summary: changed
          ? `stopped ${t.primary.instanceId}`
          : `${t.primary.instanceId} was already ${primary.status}`,
        facts: { ...facts, status: final?.status ?? 'gone' },
      };
    },

    async unfence(name, t) {
      const { region, instanceId } = t.primary;
      const facts = { primary: instanceId, region };
      if (t.fence === 'none') {
        return {
          changed: false,
          summary: `fence is 'none': ${instanceId} was left as is, nothing to undo`,
          facts,
        };
      }
      const primary = await rds.describeInstance(region, instanceId);
      if (primary === null) {
        throw permanentFailure(
          PermanentFailure.NotFound,
          `${label(name, t, 'primary')} not found: it cannot be started again; check the id and region in the runbook, or restore it from a snapshot`,
        );
      }
      const describe = (waitingFor: string) => (i: RdsInstance | null) => ({
        waitingFor,
        status: i?.status ?? 'gone',
      });
      const read = () => rds.describeInstance(region, instanceId);
      let changed = false;
      if (STOPPED.has(primary.status)) {
        // StartDBInstance is refused while the instance is still stopping.
        if (primary.status === 'stopping') {
          await pollUntil(read, (i) => i === null || i.status !== 'stopping', {
            ...poll,
            describe: describe(`${instanceId} to finish stopping before starting it`),
          });
        }
        await rds.startInstance(region, instanceId);
        changed = true;
      }
      const final = await pollUntil(read, (i) => i === null || i.status === 'available', {
        ...poll,
        describe: describe(`${instanceId} to be available`),
      });
      if (final === null) {
        throw permanentFailure(
          PermanentFailure.NotFound,
          `${label(name, t, 'primary')} disappeared while starting; check it in the RDS console`,
        );
      }
      return {
        changed,
        summary: changed
          ? `started ${instanceId}: available again`
          : `${instanceId} was already ${primary.status === 'available' ? 'available' : `${primary.status}, now available`}`,
        facts: { ...facts, status: final.status },
      };
    },

    async promote(name, t) {
      const { region, instanceId } = t.replica;
      let replica = await requireReplica(name, t);
      let changed = false;
      if (replica.replicaOf !== null) {
        // A replica busy with an earlier change (or a promotion an earlier attempt started) must settle first.
        replica = await pollUntil(
          () => requireReplica(name, t),
          (r) => r.status === 'available' || r.replicaOf === null,
          {
            ...poll,
            describe: (r) => ({
              waitingFor: `${instanceId} to be available before promoting`,
              status: r.status,
            }),
          },
        );
        if (replica.replicaOf !== null) {
          await rds.promoteReadReplica(region, instanceId);
          changed = true;
        }
      }
      const final = await pollUntil(
        () => requireReplica(name, t),
        (r) => r.status === 'available' && r.replicaOf === null,
        {
          ...poll,
          describe: (r) => ({
            waitingFor: `${instanceId} to finish promotion`,
            status: r.status,
            replicaOf: r.replicaOf,
          }),
        },
      );
      const endpoint = requireEndpoint(final.endpoint, label(name, t, 'replica'));
      return {
        changed,
        summary: changed
          ? `promoted ${instanceId}: standalone and available at ${endpoint}`
          : `${instanceId} was already promoted (not a read replica); available at ${endpoint}`,
        facts: { instanceId, region, status: final.status, endpoint },
        writableEndpoint: endpoint,
      };
    },
  };
}

function requireEndpoint(endpoint: string | null, what: string): string {
  if (endpoint === null) {
    throw permanentFailure(
      PermanentFailure.InvalidState,
      `${what} reports no Endpoint.Address; check the instance in the RDS console`,
    );
  }
  return endpoint;
}
