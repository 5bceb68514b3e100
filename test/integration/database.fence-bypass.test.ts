import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import type { DatabaseInput } from '../../activities/contracts';
import { resetStack } from '../../sandbox/stack';
import { realDatabaseFixture } from './database-fixture';
import { sql } from './estate-readers';
import { getStack } from './stack';

const stack = getStack();
const { activities, ehr, close } = realDatabaseFixture(stack);

/** A second application role that could not log in before the fence: the fence's undo must leave it so. */
const REPORT_ROLE = 'ehr_report';
const fenced: DatabaseInput = {
  ...ehr,
  target: { ...ehr.target, applicationRoles: ['ehr_app', REPORT_ROLE] } as DatabaseInput['target'],
};

/**
 * Every way a client of the application role might try to write on the fenced old primary. Each opens its
 * own session (a new connection is itself a bypass attempt) and returns the error it met, or 'written'.
 */
const BYPASSES: Record<string, string[]> = {
  'a plain insert': [],
  'SET default_transaction_read_only = off': ['set default_transaction_read_only = off'],
  'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE': [
    'set session characteristics as transaction read write',
  ],
  'BEGIN READ WRITE': ['begin read write'],
  'SET transaction_read_only = off inside a transaction': ['begin', 'set transaction_read_only = off'],
};

async function tryBypass(url: string, tag: string, before: string[]): Promise<string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const statement of before) await client.query(statement);
    await client.query('insert into drctl_probe (run_id) values ($1)', [tag]);
    if (before.some((s) => s.startsWith('begin'))) await client.query('commit');
    return 'written';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function roleCanLogin(role: string): Promise<boolean> {
  const rows = await sql<{ login: boolean }>(
    stack.postgres.primaryUrl,
    'select rolcanlogin as login from pg_roles where rolname = $1',
    [role],
  );
  return rows[0]!.login;
}

beforeAll(async () => {
  await resetStack({ only: ['postgres'] });
  await sql(stack.postgres.primaryUrl, `drop role if exists ${REPORT_ROLE}`);
  await sql(stack.postgres.primaryUrl, `create role ${REPORT_ROLE} nologin`);
});

afterAll(async () => {
  close();
  await resetStack({ only: ['postgres'] });
  await sql(stack.postgres.primaryUrl, `drop role if exists ${REPORT_ROLE}`);
});

describe('the PostgreSQL fence against the application role', () => {
  it('GIVEN an application session open before the fence WHEN the application role tries every client bypass after it THEN no write lands, and the undo restores exactly what the fence changed', async () => {
    const open = new Client({ connectionString: stack.postgres.appUrl });
    open.on('error', () => undefined);
    await open.connect();
    await open.query('begin read write');
    await open.query("insert into drctl_probe (run_id) values ('open-before-fence')");

    const fence = await activities.fenceDatabase(fenced);

    expect(fence).toMatchObject({ changed: true, facts: { primaryReachable: true } });
    const outcomes: Record<string, string> = {};
    for (const [name, statements] of Object.entries(BYPASSES)) {
      outcomes[name] = await tryBypass(stack.postgres.appUrl, `bypass: ${name}`, statements);
    }
    outcomes['the session open before the fence'] = await open
      .query('commit')
      .then(() => 'written')
      .catch((error: { code?: string; message: string }) => error.code ?? error.message);
    await open.end().catch(() => undefined);

    for (const [name, outcome] of Object.entries(outcomes)) {
      expect({ name, outcome }).not.toEqual({ name, outcome: 'written' });
    }
    const landed = await sql<{ run_id: string }>(
      stack.postgres.primaryUrl,
      "select run_id from drctl_probe where run_id like 'bypass:%' or run_id = 'open-before-fence'",
    );
    expect(landed).toEqual([]);
    expect(await roleCanLogin('ehr_app')).toBe(false);

    const undo = await activities.unfenceDatabase(fenced);

    expect(undo.changed).toBe(true);
    expect(await roleCanLogin('ehr_app')).toBe(true);
    expect(await roleCanLogin(REPORT_ROLE)).toBe(false);
    expect(await tryBypass(stack.postgres.appUrl, 'after-unfence', [])).toBe('written');
    const [setting] = await sql<{ on: string }>(
      stack.postgres.appUrl,
      "select current_setting('default_transaction_read_only') as on",
    );
    expect(setting!.on).toBe('off');
    const markers = await sql<{ setconfig: string[] }>(
      stack.postgres.primaryUrl,
      "select setconfig from pg_db_role_setting where array_to_string(setconfig, ',') like '%drctl.%'",
    );
    expect(markers).toEqual([]);
  });

  it('GIVEN a synchronous standby that is gone (synchronous_standby_names names one that never answers) WHEN fencing THEN the fence completes (before: its first commit waited for that standby, for ever)', async () => {
    await resetStack({ only: ['postgres'] });
    await sql(stack.postgres.primaryUrl, "alter system set synchronous_standby_names = 'drctl_gone_standby'");
    await sql(stack.postgres.primaryUrl, 'select pg_reload_conf()');
    try {
      const fence = await Promise.race([
        activities.fenceDatabase(ehr),
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 20_000)),
      ]);

      expect(fence).toMatchObject({ changed: true });
      expect(await roleCanLogin('ehr_app')).toBe(false);
    } finally {
      await sql(stack.postgres.primaryUrl, 'alter system reset synchronous_standby_names');
      await sql(stack.postgres.primaryUrl, 'select pg_reload_conf()');
    }
  });

  it('GIVEN a lock on the role catalog held for 6 s WHEN fencing THEN the fence waits it out while heartbeating, and fences (before: no heartbeat while it waited, so past the 15 s heartbeat timeout Temporal started a second fence beside it)', async () => {
    await resetStack({ only: ['postgres'] });
    // SHARE conflicts with the ROW EXCLUSIVE lock every ALTER ROLE takes on pg_authid, not with reads: sessions
    // still log in, the fence's ALTER ROLE waits.
    const holder = new Client({ connectionString: stack.postgres.primaryUrl });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table pg_catalog.pg_authid in share mode');
    const release = setTimeout(() => void holder.query('commit').catch(() => undefined), 6_000);
    const attempt = new MockActivityEnvironment();
    const beats: unknown[] = [];
    attempt.on('heartbeat', (details: unknown) => beats.push(details));
    try {
      const fence = await attempt.run(() => activities.fenceDatabase(ehr));

      expect(fence).toMatchObject({ changed: true });
      expect(beats).toContainEqual({ waitingFor: expect.stringMatching(/^the fence of /) });
      expect(await roleCanLogin('ehr_app')).toBe(false);
    } finally {
      clearTimeout(release);
      await holder.query('rollback').catch(() => undefined);
      await holder.end().catch(() => undefined);
    }
  });

  it('GIVEN a fence whose NOLOGIN replicated to the standby WHEN promoting it THEN the application logs in and writes on the new primary, and the old primary stays fenced', async () => {
    await resetStack({ only: ['postgres'] });
    await activities.fenceDatabase(ehr);

    const promote = await activities.promoteDatabase(ehr);

    expect(promote.changed).toBe(true);
    expect(promote.facts.loginRestored).toBe('ehr_app');
    const appOnReplica = stack.postgres.appUrl.replace(
      stack.postgres.primaryHost,
      stack.postgres.replicaHost,
    );
    expect(await tryBypass(appOnReplica, 'after-promotion', [])).toBe('written');
    expect(await tryBypass(stack.postgres.appUrl, 'old-primary-after-promotion', [])).not.toBe('written');
  });
});
