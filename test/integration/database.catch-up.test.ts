import { ApplicationFailure } from '@temporalio/common';
import type { DatabaseInput } from '../../activities/contracts';
import { killPostgresPrimary, resetStack } from '../../sandbox/stack';
import { realDatabaseFixture } from './database-fixture';
import { sql } from './estate-readers';
import { getStack } from './stack';

const stack = getStack();
const { activities, ehr, close } = realDatabaseFixture(stack);
const planned: DatabaseInput = { ...ehr, mode: 'planned' };

/**
 * Stops the replica's WAL receiver (no `primary_conninfo`), so commits acknowledged on the primary are not
 * received; returns the function that reconnects it.
 */
async function pauseWalReceiver(): Promise<() => Promise<void>> {
  const [row] = await sql<{ conninfo: string }>(
    stack.postgres.replicaUrl,
    "select setting as conninfo from pg_settings where name = 'primary_conninfo'",
  );
  const original = row!.conninfo;
  expect(original).not.toBe('');
  await sql(stack.postgres.replicaUrl, "alter system set primary_conninfo = ''");
  await sql(stack.postgres.replicaUrl, 'select pg_reload_conf()');
  for (let i = 0; i < 100; i += 1) {
    const rows = await sql(stack.postgres.replicaUrl, 'select 1 from pg_stat_wal_receiver');
    if (rows.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return async () => {
    await sql(
      stack.postgres.replicaUrl,
      `alter system set primary_conninfo = '${original.replace(/'/g, "''")}'`,
    );
    await sql(stack.postgres.replicaUrl, 'select pg_reload_conf()');
  };
}

/** Commits `count` rows as the application role on the primary; each insert is acknowledged when it returns. */
async function writeAcknowledged(tag: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await sql(stack.postgres.appUrl, 'insert into drctl_probe (run_id) values ($1)', [tag]);
  }
}

async function countRows(url: string, tag: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    url,
    'select count(*)::int as n from drctl_probe where run_id = $1',
    [tag],
  );
  return row!.n;
}

beforeEach(() => resetStack({ only: ['postgres'] }));

afterAll(async () => {
  close();
  await resetStack({ only: ['postgres'] });
});

describe('promotion after a fence waits for the replica to replay the old primary', () => {
  it('GIVEN acknowledged commits the replica has not received WHEN a planned run fences and promotes THEN the promotion waits and every acknowledged row is on the new primary', async () => {
    const resume = await pauseWalReceiver();
    await writeAcknowledged('in-flight', 40);
    expect(await countRows(stack.postgres.replicaUrl, 'in-flight')).toBe(0);

    const fence = await activities.fenceDatabase(planned);
    // The receiver comes back while the promotion is under way, as a lagging replica would catch up.
    const resumed = new Promise((resolve) => setTimeout(resolve, 1500)).then(resume);
    const promote = await activities.promoteDatabase(planned);
    await resumed;

    expect(await countRows(stack.postgres.replicaUrl, 'in-flight')).toBe(40);
    expect(fence.changed).toBe(true);
    expect(promote.changed).toBe(true);
    expect(promote.facts.primaryFinalLsn).toEqual(expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/));
    expect(Number(promote.facts.caughtUpAfterMs)).toBeGreaterThan(0);
  });

  it('GIVEN a replica that never catches up WHEN promoting after the fence THEN it fails as ReplicaNotCaughtUp after maxLag and the replica is not promoted', async () => {
    const resume = await pauseWalReceiver();
    await writeAcknowledged('never-received', 5);
    const short: DatabaseInput = { ...planned, target: { ...planned.target, maxLag: '2s' } };
    await activities.fenceDatabase(short);

    const failure = await activities.promoteDatabase(short).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ReplicaNotCaughtUp', nonRetryable: true });
    expect((failure as Error).message).toMatch(
      /bytes short of the old primary's last WAL .* after waiting maxLag 2s/,
    );
    const [standby] = await sql<{ r: boolean }>(stack.postgres.replicaUrl, 'select pg_is_in_recovery() as r');
    expect(standby!.r).toBe(true);
    await resume();
  });

  it('GIVEN the primary crashed WHEN an unplanned run promotes THEN the outcome records the estimated loss window from the last replayed transaction', async () => {
    await writeAcknowledged('before-crash', 3);
    await killPostgresPrimary();

    const promote = await activities.promoteDatabase(ehr);

    expect(promote.changed).toBe(true);
    expect(promote.facts).toMatchObject({
      primaryReachable: false,
      lastReplayedTransactionAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      estimatedLossWindowMs: expect.any(Number),
    });
    expect(promote.summary).toMatch(/may be lost — a loss window of up to/);
  });

  it('GIVEN the primary crashed WHEN a planned run promotes THEN it refuses as PrimaryUnreachable', async () => {
    await killPostgresPrimary();

    const failure = await activities.promoteDatabase(planned).catch((error: unknown) => error);

    expect(failure).toMatchObject({ type: 'PrimaryUnreachable', nonRetryable: true });
  });
});
