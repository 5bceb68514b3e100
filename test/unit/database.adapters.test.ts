import type { RDSClient } from '@aws-sdk/client-rds';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { createRdsAdapter } from '../../activities/database/rds-adapter';
import { failureOf } from './failure-of';

/** An RDSClient stand-in: answers each command by name from `handlers`. */
function stubRds(handlers: Record<string, (input: Record<string, unknown>) => unknown>): {
  client: RDSClient;
  sent: string[];
} {
  const sent: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      sent.push(name);
      const handler = handlers[name];
      if (handler === undefined) throw new Error(`unexpected ${name}`);
      return handler(command.input);
    },
  } as unknown as RDSClient;
  return { client, sent };
}

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('createRdsAdapter', () => {
  it('GIVEN DBInstanceNotFound WHEN describing THEN null; WHEN stopping THEN NotFound permanent', async () => {
    const { client } = stubRds({
      DescribeDBInstancesCommand: () => {
        throw awsError('DBInstanceNotFoundFault');
      },
      StopDBInstanceCommand: () => {
        throw awsError('DBInstanceNotFoundFault', 'DBInstance p not found');
      },
    });
    const rds = createRdsAdapter(() => client);

    expect(await rds.describeInstance('us-east-1', 'p')).toBeNull();
    expect(await failureOf(rds.stopInstance('us-east-1', 'p'))).toMatchObject({
      type: 'NotFound',
      nonRetryable: true,
    });
  });

  it.each([
    ['InvalidDBInstanceStateFault', 'InvalidState', true],
    ['AccessDenied', 'AccessDenied', true],
    ['Throttling', 'Throttling', false],
  ])(
    'GIVEN StopDBInstance fails with %s THEN it maps to %s (nonRetryable %s)',
    async (code, type, nonRetryable) => {
      const { client } = stubRds({
        StopDBInstanceCommand: () => {
          throw awsError(code);
        },
      });

      const failure = await failureOf(createRdsAdapter(() => client).stopInstance('us-east-1', 'p'));

      expect(failure).toMatchObject({ type, nonRetryable });
      expect(failure.message).toMatch(/StopDBInstance p in us-east-1/);
    },
  );
});

describe('createRdsAdapter when an attempt of a change may have taken effect', () => {
  /** PromoteReadReplica refused as no longer a replica; `uncertain`: an earlier attempt was lost in transit. */
  const promoteRefused = (uncertain: boolean) =>
    failureOf(
      createRdsAdapter(
        () =>
          stubRds({
            PromoteReadReplicaCommand: () => {
              throw Object.assign(awsError('InvalidDBInstanceState', 'r is not a read replica'), {
                $metadata: { httpStatusCode: 400, attempts: 2 },
                ...(uncertain ? { $mayHaveTakenEffect: true } : {}),
              });
            },
          }).client,
      ).promoteReadReplica('us-west-2', 'r'),
    );

  it('GIVEN PromoteReadReplica refused as no longer a replica after an attempt lost in transit THEN OutcomeUnknown, retryable (that attempt may have promoted it)', async () => {
    // Answered as permanent InvalidState, a promotion whose answer was lost failed the step although it had happened.
    const failure = await promoteRefused(true);

    expect(failure).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
    expect(failure.message).toMatch(
      /PromoteReadReplica r in us-west-2: refused after an attempt that may have reached RDS/,
    );
  });

  it('GIVEN the same refusal after attempts that were all answered (a throttle, then the refusal) THEN InvalidState, permanent', async () => {
    expect(await promoteRefused(false)).toMatchObject({ type: 'InvalidState', nonRetryable: true });
  });
});

describe('createPostgresAdapter', () => {
  it('GIVEN an unknown connection name THEN ConfigurationMissing says which setting to add', async () => {
    const pg = createPostgresAdapter({ connections: { 'ehr-primary': 'postgres://u:p@127.0.0.1:5432/ehr' } });

    const failure = await failureOf(pg.memberStatus('ehr-standby'));

    expect(failure).toMatchObject({ type: 'ConfigurationMissing', nonRetryable: true });
    expect(failure.message).toMatch(/add DRCTL_PG_EHR_STANDBY_URL or postgres\.connections\.ehr-standby/);
  });

  it('GIVEN nothing listens on the port THEN the failure is retryable "cannot reach host:port" without the password', async () => {
    const pg = createPostgresAdapter({
      connections: { db: 'postgres://u:s3cret@127.0.0.1:1/ehr' },
      connectTimeoutMs: 500,
    });

    const failure = await failureOf(pg.memberStatus('db'));

    expect(failure).toMatchObject({ type: 'PostgresUnreachable', nonRetryable: false });
    expect(failure.message).toMatch(/cannot reach 127\.0\.0\.1:1 \(connection db\)/);
    expect(failure.message).not.toMatch(/s3cret/);
  });

  it('GIVEN a host override THEN the probe connects to that host with the same port', async () => {
    const pg = createPostgresAdapter({
      connections: { app: 'postgres://u:p@127.0.0.2:1/ehr' },
      connectTimeoutMs: 500,
    });

    const failure = await failureOf(pg.probe('app', { host: '127.0.0.9', write: true, runId: 'r' }));

    expect(failure.message).toMatch(/cannot reach 127\.0\.0\.9:1/);
  });
});
