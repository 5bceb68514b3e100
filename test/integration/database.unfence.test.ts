import { Client } from 'pg';
import type { FenceUndo } from '../../kinds/database-fence/definition';
import { resetStack } from '../../sandbox/stack';
import { realDatabaseFixture } from './database-fixture';
import { getStack } from './stack';

const stack = getStack();
const { activities, ehr, portal, close } = realDatabaseFixture(stack);

/** Inserts a probe row in a fresh session; the SQLSTATE when the server refuses it. */
async function tryWrite(url: string, runId: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('insert into drctl_probe (run_id) values ($1)', [runId]);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  } finally {
    await client.end();
  }
}

// Start from the seeded pair: another test may have left the primary fenced or the replica promoted.
beforeAll(() => resetStack({ only: ['postgres'] }));

afterAll(async () => {
  close();
  await resetStack({ only: ['postgres'] });
});

describe('unfenceDatabase on the sandbox', () => {
  it('GIVEN a fenced PostgreSQL primary WHEN unfencing THEN writes are accepted again, and a second unfence changes nothing', async () => {
    const fence = await activities.fenceDatabase(ehr);
    expect(fence).toMatchObject({ changed: true, compensation: { database: ehr } });
    expect(await tryWrite(stack.postgres.appUrl, 'while-fenced')).toBe('28000');

    const first = await activities.unfenceDatabase(ehr, (fence.compensation as FenceUndo).detail);
    const second = await activities.unfenceDatabase(ehr);

    expect(first).toMatchObject({ changed: true, summary: expect.stringMatching(/^unfenced /) });
    expect(await tryWrite(stack.postgres.appUrl, 'after-unfence')).toBeUndefined();
    expect(second).toMatchObject({ changed: false });
  });

  it("GIVEN a fence lifted by hand that left its markers WHEN fencing again THEN that fence is this call's own (its undo stands); a fence found whole is another's", async () => {
    await activities.fenceDatabase(ehr);
    const admin = new Client({ connectionString: stack.postgres.primaryUrl });
    await admin.connect();
    try {
      // Lifted by hand: login back, read-only default off; drctl's markers stay on the role.
      await admin.query('set default_transaction_read_only = off');
      await admin.query('alter role ehr_app login');
      await admin.query('alter system reset default_transaction_read_only');
      await admin.query('select pg_reload_conf()');
    } finally {
      await admin.end();
    }
    expect(await tryWrite(stack.postgres.appUrl, 'lifted-by-hand')).toBeUndefined();

    const again = await activities.fenceDatabase(ehr);
    const whole = await activities.fenceDatabase(ehr).finally(() => activities.unfenceDatabase(ehr));

    expect(again.facts.fencedByAnother).toBeUndefined();
    expect(whole.facts.fencedByAnother).toBe(true);
    expect(await tryWrite(stack.postgres.appUrl, 'after-unfence')).toBeUndefined();
  });

  it('GIVEN the PostgreSQL primary WHEN planning its fence before and after it THEN it reads the role of the member and of the application roles', async () => {
    const before = await activities.planFence(ehr);
    expect(before).toEqual([
      expect.objectContaining({
        current: expect.stringMatching(/primary.*application roles that can log in: ehr_app/),
        willChange: true,
      }),
    ]);

    const fence = await activities.fenceDatabase(ehr);
    const after = await activities.planFence(ehr);
    await activities.unfenceDatabase(ehr, (fence.compensation as FenceUndo).detail);

    expect(after).toEqual([
      expect.objectContaining({
        current: expect.stringMatching(/application roles that can log in: none \(0 session\(s\)\)/),
        willChange: false,
      }),
    ]);
  });

  it('GIVEN an RDS primary fenced by its security groups WHEN unfencing twice THEN its groups are back once', async () => {
    const fence = await activities.fenceDatabase(portal);
    expect(fence.changed).toBe(true);

    const first = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);
    const second = await activities.unfenceDatabase(portal, (fence.compensation as FenceUndo).detail);

    expect(first.changed).toBe(true);
    expect(second.changed).toBe(false);
  });
});
