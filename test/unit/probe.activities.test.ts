import type { ZoneRef } from '../../runbooks/schema';
import { createProbeActivities } from '../../kinds/probe/activities';
import { FakePostgres } from '../fakes/fake-postgres';
import { failureOf } from './failure-of';

const via = { zone: { name: 'sandbox.drctl.internal.' }, record: 'ehr-db.sandbox.drctl.internal.' };

function setup(answer = '127.0.0.2') {
  const { pg, primary, replica } = FakePostgres.healthyPair();
  const lookups: Array<{ zone: ZoneRef; record: string }> = [];
  const dns = { answer };
  const resolveHost = async (zone: ZoneRef, record: string) => {
    lookups.push({ zone, record });
    return dns.answer;
  };
  return { pg, primary, replica, lookups, dns, resolveHost };
}

describe('runProbe (sql)', () => {
  it('GIVEN the record names the primary WHEN probing with a write THEN a row lands on the host DNS names', async () => {
    const { pg, primary, lookups, resolveHost } = setup('127.0.0.2');
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const outcome = await runProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: true } });

    expect(lookups).toEqual([{ zone: via.zone, record: via.record }]);
    expect(primary.rows).toHaveLength(1);
    expect(outcome).toMatchObject({
      changed: true,
      facts: { host: '127.0.0.2:5432', insertedId: '1', inRecovery: false },
    });
  });

  it('GIVEN the record was switched to the promoted replica WHEN probing THEN the app credentials reach the replica host', async () => {
    const { pg, primary, replica, resolveHost } = setup('127.0.0.3');
    replica.inRecovery = false;
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const outcome = await runProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: true } });

    expect(replica.rows).toHaveLength(1);
    expect(primary.rows).toHaveLength(0);
    expect(outcome.facts.host).toBe('127.0.0.3:5432');
    expect(pg.state.calls).toContain('probe ehr-app host=127.0.0.3');
  });

  it('GIVEN the record still names a standby WHEN probing with a write THEN ProbeFailed says why', async () => {
    const { pg, resolveHost } = setup('127.0.0.3');
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const failure = await failureOf(
      runProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: true } }),
    );

    expect(failure).toMatchObject({ type: 'ProbeFailed', nonRetryable: true });
    expect(failure.message).toMatch(
      /ehr-db\.sandbox\.drctl\.internal\. → 127\.0\.0\.3.*read-only transaction/,
    );
  });

  it('GIVEN a connection the worker lacks WHEN probing read-only THEN the configuration error comes as it is, without advice about DNS and writes', async () => {
    const { pg, resolveHost } = setup('127.0.0.2');
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const failure = await failureOf(
      runProbe({ probe: { type: 'sql', connection: 'no-such-connection', write: false } }),
    );

    expect(failure).toMatchObject({ type: 'ConfigurationMissing', nonRetryable: true });
    expect(failure.message).toMatch(/^no PostgreSQL connection named "no-such-connection"/);
    expect(failure.message).not.toMatch(/takes writes|connection host/);
  });

  it('GIVEN the host DNS names is down WHEN probing THEN ProbeFailed carries the unreachable reason', async () => {
    const { pg, primary, resolveHost } = setup('127.0.0.2');
    primary.reachable = false;
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const failure = await failureOf(
      runProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: false } }),
    );

    expect(failure).toMatchObject({ type: 'ProbeFailed', nonRetryable: true });
    expect(failure.message).toMatch(/cannot reach 127\.0\.0\.2:5432/);
  });

  it('GIVEN no via WHEN probing read-only THEN select 1 runs on the connection host and nothing is written', async () => {
    const { pg, primary, lookups, resolveHost } = setup();
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const outcome = await runProbe({ probe: { type: 'sql', connection: 'ehr-replica', write: false } });

    expect(lookups).toEqual([]);
    expect(outcome).toMatchObject({ changed: false, facts: { host: '127.0.0.3:5432', insertedId: null } });
    expect(primary.rows).toHaveLength(0);
  });
});

describe('a SQL probe against a fenced primary', () => {
  const fence = { applicationRoles: ['ehr_app'], fenceId: 'run-1' };

  it('GIVEN the fence took LOGIN from the application role WHEN the probe connects THEN the server refuses the role', async () => {
    const { pg, resolveHost } = setup('127.0.0.2');
    await pg.fence('ehr-primary', fence);
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const failure = await failureOf(
      runProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: false } }),
    );

    expect(failure.message).toMatch(/role "ehr_app" is not permitted to log in/);
  });

  it('GIVEN the record still names the fenced primary WHEN pre-flight checks the probe THEN the refusal is the fence holding, not bad credentials', async () => {
    const { pg, resolveHost } = setup('127.0.0.2');
    await pg.fence('ehr-primary', fence);
    const { checkProbe } = createProbeActivities({ postgres: pg, resolveHost });

    const checks = await checkProbe({ probe: { type: 'sql', connection: 'ehr-app', via, write: true } });

    expect(checks.every((check) => check.ok)).toBe(true);
    expect(checks.map((check) => check.message).join('\n')).toMatch(
      /refuses the role's login, as a fenced primary does/,
    );
  });
});

describe('runProbe (http)', () => {
  const fakeFetch = (status: number | Error) =>
    (async () => {
      if (status instanceof Error) throw status;
      return new Response(null, { status });
    }) as unknown as typeof fetch;

  it('GIVEN the expected status WHEN probing THEN it passes with the status as a fact', async () => {
    const { pg, resolveHost } = setup();
    const { runProbe } = createProbeActivities({ postgres: pg, resolveHost, fetch: fakeFetch(204) });

    const outcome = await runProbe({
      probe: { type: 'http', url: 'http://portal.local/health', expectStatus: 204 },
    });

    expect(outcome).toMatchObject({ changed: false, facts: { status: 204 } });
  });

  it('GIVEN another status or a network error WHEN probing THEN ProbeFailed names the URL and both statuses', async () => {
    const { pg, resolveHost } = setup();
    const wrong = createProbeActivities({ postgres: pg, resolveHost, fetch: fakeFetch(503) });
    const down = createProbeActivities({
      postgres: pg,
      resolveHost,
      fetch: fakeFetch(new TypeError('fetch failed')),
    });

    const a = await failureOf(
      wrong.runProbe({ probe: { type: 'http', url: 'http://portal.local/health', expectStatus: 200 } }),
    );
    const b = await failureOf(
      down.runProbe({ probe: { type: 'http', url: 'http://portal.local/health', expectStatus: 200 } }),
    );

    expect(a).toMatchObject({
      type: 'ProbeFailed',
      nonRetryable: true,
      message: expect.stringMatching(/answered 503, expected 200/),
    });
    expect(b.message).toMatch(/GET http:\/\/portal\.local\/health failed: fetch failed/);
  });
});
