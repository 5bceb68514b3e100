import { Route53Client } from '@aws-sdk/client-route-53';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { createRoute53Adapter } from '../../activities/dns/route53-adapter';
import { resolveRecord } from '../../activities/dns/resolve-record';
import { createProbeActivities } from '../../kinds/probe/activities';
import { resetStack } from '../../sandbox/stack';
import { pointRecordAt } from './estate-writers';
import { getStack } from './stack';

// Resets re-clone the replica; jest's project-level testTimeout does not reach hooks, so set it here.

const stack = getStack();
const route53Client = new Route53Client({
  region: 'us-east-1',
  endpoint: stack.moto.endpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const route53 = createRoute53Adapter(route53Client);
const postgres = createPostgresAdapter({
  connections: {
    'ehr-primary': stack.postgres.primaryUrl,
    'ehr-replica': stack.postgres.replicaUrl,
    'ehr-app': stack.postgres.appUrl,
  },
});
const { runProbe } = createProbeActivities({
  postgres,
  resolveHost: (zone, record) => resolveRecord(route53, zone, record, 'A'),
});

const zone = { name: stack.aws.route53.zoneName };
const record = 'ehr-db.sandbox.drctl.internal.';
const sqlProbe = { type: 'sql' as const, connection: 'ehr-app', via: { zone, record }, write: true };

async function rowOn(url: string, id: string): Promise<{ run_id: string } | undefined> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ run_id: string }>('select run_id from drctl_probe where id = $1', [id]))
      .rows[0];
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await resetStack({ only: ['postgres', 'aws'] });
  route53Client.destroy();
});

describe('runProbe on the sandbox', () => {
  it('GIVEN the record names the primary WHEN the SQL probe writes THEN the row is on the primary, written through that host', async () => {
    const outcome = await runProbe({ probe: sqlProbe });

    expect(outcome.facts.host).toBe(`${stack.postgres.primaryHost}:${stack.postgres.port}`);
    expect(await rowOn(stack.postgres.primaryUrl, String(outcome.facts.insertedId))).toEqual({
      run_id: 'drctl-probe',
    });
  });

  it('GIVEN the record names the standby WHEN the SQL probe writes THEN it fails as ProbeFailed with the read-only reason', async () => {
    await pointRecordAt(stack, record, stack.postgres.replicaHost);

    const error = await runProbe({ probe: sqlProbe }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ProbeFailed', nonRetryable: true });
    expect((error as Error).message).toMatch(/→ 127\.0\.0\.3.*read-only transaction/);
  });

  it('GIVEN the standby is promoted and the record names it WHEN the SQL probe writes THEN the row is on the promoted member', async () => {
    expect(await postgres.promote('ehr-replica', 60)).toBe(true);
    // Promoted: a second promotion is refused as PostgreSQL refuses it (the strategy treats 55000 as done).
    await expect(postgres.promote('ehr-replica', 60)).rejects.toMatchObject({ code: '55000' });
    await pointRecordAt(stack, record, stack.postgres.replicaHost);

    const outcome = await runProbe({ probe: sqlProbe });

    expect(outcome.facts).toMatchObject({
      host: `${stack.postgres.replicaHost}:${stack.postgres.port}`,
      inRecovery: false,
    });
    expect(await rowOn(stack.postgres.replicaUrl, String(outcome.facts.insertedId))).toEqual({
      run_id: 'drctl-probe',
    });
  });

  it('GIVEN the Unleash health URL WHEN the HTTP probe runs THEN the status matches', async () => {
    const outcome = await runProbe({
      probe: { type: 'http', url: `${stack.unleash.url}/health`, expectStatus: 200 },
    });

    expect(outcome.facts).toMatchObject({ status: 200 });
  });
});
