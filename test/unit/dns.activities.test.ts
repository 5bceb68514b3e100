import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heldCalls, twoActivities } from './held-calls';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Route53Client } from '@aws-sdk/client-route-53';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import { createRoute53Adapter } from '../../activities/dns/route53-adapter';
import type { HostedZone, Route53Port } from '../../activities/dns/route53-port';
import { resolveRecord } from '../../activities/dns/resolve-record';
import { FakeRoute53, type FakeRoute53Options } from '../fakes/fake-route53';

const ZONE = { id: 'Z1', name: 'sandbox.drctl.internal.' };
const EHR = 'ehr-db.sandbox.drctl.internal.';
const PORTAL = 'portal-db.sandbox.drctl.internal.';
const fastPoll = { initialIntervalMs: 5, maxIntervalMs: 10 };

function setup(options: Omit<FakeRoute53Options, 'zones'> = {}) {
  const route53 = new FakeRoute53({
    ...options,
    zones: [
      {
        ...ZONE,
        records: [
          { name: EHR, type: 'A', ttl: 30, value: '127.0.0.2' },
          { name: PORTAL, type: 'CNAME', ttl: 30, value: 'ehr-db.sandbox.drctl.internal.' },
        ],
      },
    ],
  });
  const activities = createDnsActivities({ route53, poll: fastPoll, resolutionTimeoutMs: 2000 });
  return { route53, activities };
}

const switchToReplica = {
  zone: { name: 'sandbox.drctl.internal' },
  records: [
    { name: 'ehr-db.sandbox.drctl.internal', type: 'A' as const, ttl: 30, value: '127.0.0.3' },
    { name: PORTAL, type: 'CNAME' as const, ttl: 30, value: 'ehr-db.sandbox.drctl.internal' },
  ],
  checkResolution: true,
};

/** Attempt 2 of a switch whose first attempt recorded `change` (of ehr-db, read at 127.0.0.2) and died. */
function secondAttemptAfter(change: { id: string; status: 'PENDING' | 'INSYNC'; records: number }) {
  return new MockActivityEnvironment({
    attempt: 2,
    heartbeatDetails: {
      resume: 'dns.switch',
      zoneId: 'Z1',
      phase: 'insync',
      before: { [`A ${EHR}`]: [30, ['127.0.0.2']] },
      changes: [change],
    },
  });
}

describe('switchDns', () => {
  it('GIVEN one record differs WHEN switching THEN only that record is UPSERTed in one batch and stored', async () => {
    const { route53, activities } = setup();

    const outcome = await activities.switchDns(switchToReplica);

    expect(outcome.changed).toBe(true);
    expect(route53.submitted).toHaveLength(1);
    expect(route53.submitted[0]?.upserts).toEqual([{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }]);
    expect(route53.valuesOf('Z1', EHR, 'A')).toEqual(['127.0.0.3']);
    expect(outcome.facts).toMatchObject({
      zoneId: 'Z1',
      changeId: 'C1',
      [`A ${EHR}`]: '127.0.0.2 → 127.0.0.3',
      [`CNAME ${PORTAL}`]: expect.stringContaining('unchanged'),
    });
  });

  it('GIVEN the switch already happened WHEN it runs again THEN changed:false and no new change is submitted', async () => {
    const { route53, activities } = setup();
    await activities.switchDns(switchToReplica);

    const second = await activities.switchDns(switchToReplica);

    expect(second.changed).toBe(false);
    expect(route53.submitted).toHaveLength(1);
    expect(route53.valuesOf('Z1', EHR, 'A')).toEqual(['127.0.0.3']);
    expect(second.summary).toMatch(/already hold/);
  });

  it('GIVEN Route 53 reports PENDING for 3 polls WHEN switching THEN it waits until INSYNC', async () => {
    const { route53, activities } = setup({ pendingPolls: 3 });

    const outcome = await activities.switchDns({ ...switchToReplica, checkResolution: false });

    expect(outcome.changed).toBe(true);
    expect(route53.getChangeCalls).toEqual(['C1', 'C1', 'C1', 'C1']);
  });

  it('GIVEN a PENDING change WHEN waiting inside an activity THEN each poll heartbeats the change id and status', async () => {
    const { activities } = setup({ pendingPolls: 2 });
    const env = new MockActivityEnvironment();
    const beats: Array<{ phase?: string; changes?: Array<{ id: string; status: string }> }> = [];
    env.on('heartbeat', (details: unknown) => beats.push(structuredClone(details) as (typeof beats)[number]));

    await env.run(() => activities.switchDns({ ...switchToReplica, checkResolution: false }));

    const waiting = beats.filter((b) => b.phase === 'insync').map((b) => b.changes?.[0]);
    expect(waiting).toContainEqual({ id: 'C1', status: 'PENDING', records: 1 });
    expect(beats[beats.length - 1]?.changes).toEqual([{ id: 'C1', status: 'INSYNC', records: 1 }]);
  });

  it('GIVEN an earlier attempt submitted the change and died before INSYNC WHEN retried THEN it waits on that change, submits nothing, and still reports the undo', async () => {
    const { route53, activities } = setup({ pendingPolls: 2 });
    await route53.upsertRecords('Z1', [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }], 'attempt 1');
    const env = secondAttemptAfter({ id: 'C1', status: 'PENDING', records: 1 });

    const outcome: Awaited<ReturnType<typeof activities.switchDns>> = await env.run(() =>
      activities.switchDns({ ...switchToReplica, checkResolution: false }),
    );

    expect(outcome).toMatchObject({ changed: true, attempt: 2, facts: { changeId: 'C1' } });
    expect(route53.submitted).toHaveLength(1);
    expect(route53.getChangeCalls).toEqual(['C1', 'C1', 'C1']);
    expect(outcome.compensation).toEqual({
      zone: switchToReplica.zone,
      records: [{ name: 'ehr-db.sandbox.drctl.internal', type: 'A', ttl: 30, value: '127.0.0.2' }],
    });
  });

  it('GIVEN a record that moved since the run read it ahead WHEN switching THEN it refuses with ChangedSinceRead and sends nothing', async () => {
    const { route53, activities } = setup();
    const readAhead = await activities.readDnsRecords({
      zone: switchToReplica.zone,
      records: switchToReplica.records.map(({ name, type }) => ({ name, type })),
    });
    await route53.upsertRecords(
      'Z1',
      [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.9' }],
      'another writer',
    );

    const error = await activities
      .switchDns({ ...switchToReplica, expectedBefore: readAhead })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
    expect((error as Error).message).toContain(
      `A ${EHR} holds 127.0.0.9 (TTL 30), read as 127.0.0.2 (TTL 30)`,
    );
    expect(route53.submitted).toHaveLength(1); // the other writer's change only
    expect(route53.valuesOf('Z1', EHR, 'A')).toEqual(['127.0.0.9']);
  });

  it('GIVEN a record someone moved to its new value since the run read it ahead WHEN switching THEN it refuses too (the undo would set it back)', async () => {
    const { route53, activities } = setup();
    const readAhead = await activities.readDnsRecords({
      zone: switchToReplica.zone,
      records: switchToReplica.records.map(({ name, type }) => ({ name, type })),
    });
    await route53.upsertRecords('Z1', [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }], 'by hand');

    const error = await activities
      .switchDns({ ...switchToReplica, expectedBefore: readAhead })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
    expect((error as Error).message).toContain(
      `A ${EHR} holds 127.0.0.3 (TTL 30), read as 127.0.0.2 (TTL 30)`,
    );
  });

  it('GIVEN records that hold what the run read ahead WHEN switching THEN it switches', async () => {
    const { route53, activities } = setup();
    const readAhead = await activities.readDnsRecords({
      zone: switchToReplica.zone,
      records: switchToReplica.records.map(({ name, type }) => ({ name, type })),
    });

    const outcome = await activities.switchDns({ ...switchToReplica, expectedBefore: readAhead });

    expect(outcome.changed).toBe(true);
    expect(route53.valuesOf('Z1', EHR, 'A')).toEqual(['127.0.0.3']);
  });

  it('GIVEN a record of two values read ahead in the other order WHEN a later attempt of the switch reads the zone THEN it switches (a set has no order; before: PartlySwitched, as if another writer had moved it)', async () => {
    const { route53, activities } = setup();
    const MULTI = 'multi.sandbox.drctl.internal.';
    await route53.upsertRecords(
      'Z1',
      [{ name: MULTI, type: 'A', ttl: 30, value: '127.0.0.5', values: ['127.0.0.5', '127.0.0.6'] }],
      'seed',
    );
    const outcome: Awaited<ReturnType<typeof activities.switchDns>> = await new MockActivityEnvironment({
      attempt: 2,
    }).run(() =>
      activities.switchDns({
        zone: switchToReplica.zone,
        records: [{ name: MULTI, type: 'A' as const, ttl: 30, value: '127.0.0.7' }],
        checkResolution: false,
        batchedSwaps: true,
        expectedBefore: [{ name: MULTI, type: 'A' as const, ttl: 30, values: ['127.0.0.6', '127.0.0.5'] }],
      }),
    );

    expect(outcome.changed).toBe(true);
    expect(route53.valuesOf('Z1', MULTI, 'A')).toEqual(['127.0.0.7']);
  });

  it('GIVEN an earlier attempt already sent part of a switch read ahead WHEN retried THEN it does not refuse (it acted), and finishes', async () => {
    const { route53, activities } = setup();
    const OTHER = 'other.sandbox.drctl.internal.';
    await route53.upsertRecords('Z1', [{ name: OTHER, type: 'A', ttl: 30, value: '127.0.0.5' }], 'seed');
    const readAhead = [
      { name: EHR, type: 'A' as const, ttl: 30, values: ['127.0.0.2'] },
      { name: OTHER, type: 'A' as const, ttl: 30, values: ['127.0.0.5'] },
    ];
    await route53.upsertRecords(
      'Z1',
      [{ name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' }],
      'attempt 1, batch 1',
    );
    await route53.upsertRecords(
      'Z1',
      [{ name: OTHER, type: 'A', ttl: 30, value: '127.0.0.6' }],
      'another writer',
    );
    const env = secondAttemptAfter({ id: 'C2', status: 'INSYNC', records: 1 });

    const outcome: Awaited<ReturnType<typeof activities.switchDns>> = await env.run(() =>
      activities.switchDns({
        zone: switchToReplica.zone,
        records: [
          { name: EHR, type: 'A', ttl: 30, value: '127.0.0.3' },
          { name: OTHER, type: 'A', ttl: 30, value: '127.0.0.4' },
        ],
        checkResolution: false,
        expectedBefore: readAhead,
      }),
    );

    expect(outcome.changed).toBe(true);
    expect(route53.valuesOf('Z1', OTHER, 'A')).toEqual(['127.0.0.4']);
  });

  it('GIVEN TestDNSAnswer lags 2 answers WHEN checking resolution THEN it polls until the new value answers', async () => {
    const { activities } = setup({ staleAnswers: 2 });

    const outcome = await activities.switchDns(switchToReplica);

    expect(outcome.facts.resolutionCheck).toMatch(/zone read back \(1 page\) \+ TestDNSAnswer on 1 name/);
  });

  it('GIVEN an endpoint without TestDNSAnswer WHEN checking resolution THEN it reads the record set back', async () => {
    const { activities } = setup({ noTestDnsAnswer: true });

    const outcome = await activities.switchDns(switchToReplica);

    expect(outcome.facts.resolutionCheck).toMatch(/zone read back .*no TestDNSAnswer/);
  });

  it('GIVEN an unknown zone WHEN switching THEN it fails permanently naming the zone', async () => {
    const { route53, activities } = setup();

    const error = await activities
      .switchDns({ ...switchToReplica, zone: { name: 'nope.internal.' } })
      .catch((e) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'NotFound', nonRetryable: true });
    expect(error.message).toMatch(/nope\.internal/);
    expect(route53.submitted).toHaveLength(0);
  });
});

describe('planDnsSwitch and checkDnsRecords', () => {
  it('GIVEN current state WHEN planning THEN each record says whether it will change, nothing is submitted', async () => {
    const { route53, activities } = setup();

    const plan = await activities.planDnsSwitch(switchToReplica);

    expect(plan).toEqual([
      { target: `A ${EHR}`, current: '127.0.0.2 (TTL 30)', desired: '127.0.0.3 (TTL 30)', willChange: true },
      {
        target: `CNAME ${PORTAL}`,
        current: `${EHR} (TTL 30)`,
        desired: 'ehr-db.sandbox.drctl.internal (TTL 30)',
        willChange: false,
      },
    ]);
    expect(route53.submitted).toHaveLength(0);
  });

  it('GIVEN a missing record WHEN checking THEN that check fails with what to do', async () => {
    const { activities } = setup();

    const results = await activities.checkDnsRecords({
      zone: { id: 'Z1' },
      records: [
        { name: EHR, type: 'A' },
        { name: 'gone.sandbox.drctl.internal', type: 'A' },
      ],
    });

    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2]?.message).toMatch(/no A record gone\.sandbox\.drctl\.internal\. .*create it/);
  });
});

describe('resolveRecord', () => {
  it('GIVEN a CNAME WHEN resolving without a type THEN it answers the CNAME target', async () => {
    const { route53 } = setup();
    await expect(resolveRecord(route53, { name: ZONE.name }, PORTAL)).resolves.toBe(EHR);
    await expect(
      resolveRecord(route53, { name: ZONE.name }, 'ehr-db.sandbox.drctl.internal', 'A'),
    ).resolves.toBe('127.0.0.2');
  });
});

describe('createRoute53Adapter error mapping', () => {
  function failingClient(error: unknown): Route53Client {
    return { send: async () => Promise.reject(error) } as unknown as Route53Client;
  }
  function awsError(name: string, status: number): Error {
    return Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode: status } });
  }

  it.each([
    ['InvalidClientTokenId', 403, 'AccessDenied', true, /AWS credentials/],
    ['SignatureDoesNotMatch', 403, 'AccessDenied', true, /AWS credentials/],
    ['AccessDenied', 403, 'AccessDenied', true, /AWS credentials/],
    ['NoSuchHostedZone', 404, 'NotFound', true, /Z404/],
    ['Throttling', 400, 'Throttling', false, /throttled/],
    ['PriorRequestNotComplete', 400, 'PriorRequestNotComplete', false, /throttled/],
  ])('%s (HTTP %i) → %s, nonRetryable %s', async (name, status, type, nonRetryable, message) => {
    const adapter = createRoute53Adapter(failingClient(awsError(name, status)));

    const error = await adapter.findZone({ id: 'Z404' }).catch((e) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type, nonRetryable });
    expect(error.message).toMatch(message);
  });

  const swap = {
    name: EHR,
    type: 'A' as const,
    from: { ttl: 30, values: ['127.0.0.2'] },
    to: { ttl: 30, value: '127.0.0.3' },
  };
  const errorXml = (code: string, message: string) =>
    `<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
  const moved = `[Tried to delete resource record set [name='${EHR}', type='A'] but the values provided do not match the current values]`;

  /**
   * A loopback Route 53 that answers the requests in turn: `reset` closes the connection without an answer (as
   * when an answer is lost after Route 53 made the change), a code answers that error with HTTP 400.
   */
  async function answering(...answers: Array<'reset' | 'PriorRequestNotComplete' | 'InvalidChangeBatch'>) {
    let served = 0;
    const server = createServer((req, res) => {
      req.resume();
      const answer = answers[Math.min(served++, answers.length - 1)];
      if (answer === 'reset') {
        req.on('end', () => req.socket.destroy());
        return;
      }
      const body =
        answer === 'InvalidChangeBatch'
          ? errorXml('InvalidChangeBatch', moved)
          : errorXml(
              'PriorRequestNotComplete',
              'The request was rejected because Route 53 was still processing a prior request.',
            );
      res.writeHead(400, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const client = new Route53Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      maxAttempts: 3,
    });
    return {
      swapped: () =>
        createRoute53Adapter(client)
          .swapRecords('Z1', [swap], 'c')
          .catch((e: unknown) => e),
      requests: () => served,
      close: () => {
        client.destroy();
        server.close();
      },
    };
  }

  it('a swap Route 53 refused, every attempt answered (a PriorRequestNotComplete, then the refusal) → ChangedSinceRead, nonRetryable (nothing changed)', async () => {
    // Counted as "sent more than once", this refusal was taken for an unknown outcome: the retry UPSERTed over
    // the other writer's record that the swap was there to protect.
    const route53 = await answering('PriorRequestNotComplete', 'InvalidChangeBatch');
    try {
      expect(await route53.swapped()).toMatchObject({ type: 'ChangedSinceRead', nonRetryable: true });
      expect(route53.requests()).toBe(2);
    } finally {
      route53.close();
    }
  });

  it('a swap whose first attempt got no answer, then refused → OutcomeUnknown, retryable (the first attempt may have made the change)', async () => {
    const route53 = await answering('reset', 'InvalidChangeBatch');
    try {
      const error = await route53.swapped();
      expect(error).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
      expect((error as Error).message).toMatch(/retry reads the zone before it writes/);
    } finally {
      route53.close();
    }
  });

  it('a swap whose first attempt got no answer, then met PriorRequestNotComplete (its own change, PENDING) → OutcomeUnknown', async () => {
    // Retried by the activity's own loop, the next send found its DELETE no longer matching and was reported as
    // ChangedSinceRead (nothing sent) although the first attempt had made the change.
    const route53 = await answering('reset', 'PriorRequestNotComplete');
    try {
      expect(await route53.swapped()).toMatchObject({ type: 'OutcomeUnknown', nonRetryable: false });
    } finally {
      route53.close();
    }
  });

  it('a refused connection is retryable', async () => {
    const adapter = createRoute53Adapter(
      failingClient(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    const error = await adapter.getChange('C1').catch((e) => e);
    expect(error).toMatchObject({ type: 'ConnectionFailed', nonRetryable: false });
  });

  it('permanent failures stay non-retryable through switchDns (runStep)', async () => {
    const adapter = createRoute53Adapter(failingClient(awsError('InvalidClientTokenId', 403)));
    const activities = createDnsActivities({ route53: adapter });
    const error = await activities.switchDns(switchToReplica).catch((e) => e);
    expect(error).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
    expect(error.message).toMatch(/check the worker's AWS credentials/);
  });
});

describe('createRoute53Adapter zone lookups', () => {
  /** A Route 53 client that knows one zone by name and counts ListHostedZonesByName calls. */
  function zoneClient(zoneId: () => string) {
    let lookups = 0;
    const client = {
      send: async (command: { constructor: { name: string } }) => {
        if (command.constructor.name !== 'ListHostedZonesByNameCommand') throw new Error('unexpected call');
        lookups++;
        return { HostedZones: [{ Id: `/hostedzone/${zoneId()}`, Name: ZONE.name }] };
      },
    } as unknown as Route53Client;
    return { client, lookups: () => lookups };
  }
  /** Looks the zone up from an activity of workflow run `runId`. */
  const findInRun = (adapter: Route53Port, runId: string): Promise<HostedZone> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: 'failover-ehr-db', runId } }).run(() =>
      adapter.findZone({ name: ZONE.name }),
    ) as Promise<HostedZone>;

  it('GIVEN one run WHEN its steps look the zone up by name three times THEN Route 53 is asked once', async () => {
    const route53 = zoneClient(() => 'Z1');
    const adapter = createRoute53Adapter(route53.client);

    const zones: HostedZone[] = [];
    for (let step = 0; step < 3; step++) zones.push(await findInRun(adapter, 'run-1'));

    expect(zones.map((z) => z.id)).toEqual(['Z1', 'Z1', 'Z1']);
    expect(route53.lookups()).toBe(1);
  });

  it('GIVEN a zone created again between two runs WHEN the next run looks it up THEN it finds the new id', async () => {
    let id = 'Z1';
    const route53 = zoneClient(() => id);
    const adapter = createRoute53Adapter(route53.client);

    const first = await findInRun(adapter, 'run-1');
    id = 'Z2';
    const next = await findInRun(adapter, 'run-2');
    const outside = await adapter.findZone({ name: ZONE.name });

    expect([first.id, next.id, outside.id]).toEqual(['Z1', 'Z2', 'Z2']);
    expect(route53.lookups()).toBe(3);
  });
});

describe('createRoute53Adapter reads shared while in flight', () => {
  /** A Route 53 client that knows one zone and counts its calls; the calls `holds` picks wait at `gate` while held. */
  function heldZoneClient(holds: (call: number) => boolean = () => true) {
    const gate = heldCalls();
    let calls = 0;
    const client = {
      send: async () => {
        if (holds(++calls)) await gate.passed();
        return { HostedZones: [{ Id: '/hostedzone/Z1', Name: ZONE.name }] };
      },
    } as unknown as Route53Client;
    return { client, gate, calls: () => calls };
  }
  /** A Route 53 client that answers after 20 ms (so reads overlap), counting each operation's calls. */
  function slowClient() {
    const calls: Record<string, number> = {};
    let value = '10.0.0.1';
    const client = {
      send: async (command: { constructor: { name: string } }) => {
        const name = command.constructor.name.replace(/Command$/, '');
        calls[name] = (calls[name] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (name === 'ListHostedZonesByName')
          return { HostedZones: [{ Id: '/hostedzone/Z1', Name: ZONE.name }] };
        if (name === 'ListResourceRecordSets')
          return {
            ResourceRecordSets: [
              { Name: 'ehr-db.example.internal.', Type: 'A', TTL: 30, ResourceRecords: [{ Value: value }] },
            ],
          };
        throw new Error(`unexpected call ${name}`);
      },
    } as unknown as Route53Client;
    return { client, calls, move: (to: string) => (value = to) };
  }
  const inRun = <T>(runId: string, work: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment({ workflowExecution: { workflowId: 'plan-ehr-db', runId } }).run(
      work,
    ) as Promise<T>;
  const readRecord = (adapter: Route53Port) =>
    adapter
      .findZone({ name: ZONE.name })
      .then((zone) => adapter.getRecordSet(zone.id, 'ehr-db.example.internal.', 'A'));

  it("GIVEN three of one run's checks reading the same zone and record at once WHEN they run THEN Route 53 is asked once for each, and each check gets the answer", async () => {
    const route53 = slowClient();
    const adapter = createRoute53Adapter(route53.client);

    const answers = await Promise.all([1, 2, 3].map(() => inRun('run-1', () => readRecord(adapter))));

    expect(answers.map((a) => a?.values)).toEqual([['10.0.0.1'], ['10.0.0.1'], ['10.0.0.1']]);
    expect(route53.calls).toEqual({ ListHostedZonesByName: 1, ListResourceRecordSets: 1 });
  });

  it('GIVEN a read that has answered WHEN the same run reads again THEN it is sent again and sees the change since', async () => {
    const route53 = slowClient();
    const adapter = createRoute53Adapter(route53.client);

    const before = await inRun('run-1', () => readRecord(adapter));
    route53.move('10.0.0.2');
    const after = await inRun('run-1', () => readRecord(adapter));

    expect([before?.values, after?.values]).toEqual([['10.0.0.1'], ['10.0.0.2']]);
    expect(route53.calls.ListResourceRecordSets).toBe(2);
  });

  it('GIVEN two runs reading the same record at once WHEN they run THEN each run gets a call of its own', async () => {
    const route53 = slowClient();
    const adapter = createRoute53Adapter(route53.client);

    await Promise.all([inRun('run-1', () => readRecord(adapter)), inRun('run-2', () => readRecord(adapter))]);

    expect(route53.calls).toEqual({ ListHostedZonesByName: 2, ListResourceRecordSets: 2 });
  });

  it("GIVEN two of one run's activities waiting on one read that Route 53 holds WHEN they wait THEN each heartbeats while waiting", async () => {
    const { client, gate, calls } = heldZoneClient();
    const adapter = createRoute53Adapter(client, { keepAliveMs: 10 });
    gate.hold();
    const { opener, joiner, beats, untilBothBeat } = twoActivities();

    const lookups = [opener, joiner].map((env) => env.run(() => adapter.findZone({ name: ZONE.name })));
    await untilBothBeat(2);
    gate.release();
    const zones = (await Promise.all(lookups)) as HostedZone[];

    expect(zones.map((z) => z.id)).toEqual(['Z1', 'Z1']);
    expect(calls()).toBe(1);
    expect(beats.joiner).toBeGreaterThanOrEqual(2);
  });

  it('GIVEN a shared read that Route 53 refuses WHEN a check waited on it THEN the check gets that refusal too (not a call of its own), and a later read is sent again', async () => {
    let fail = true;
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (fail)
          throw Object.assign(new Error('zone gone'), {
            name: 'NoSuchHostedZone',
            $metadata: { httpStatusCode: 404 },
          });
        return { ResourceRecordSets: [] };
      },
    } as unknown as Route53Client;
    const adapter = createRoute53Adapter(client);
    const read = () => inRun('run-1', () => adapter.getRecordSet('Z1', 'ehr-db.example.internal.', 'A'));

    const outcomes = await Promise.allSettled([read(), read()]);
    fail = false;
    const again = await read();

    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(again).toBeUndefined();
    expect(calls).toBe(2); // the shared call, and the later read
  });

  it("GIVEN a shared call that failed because its sender's activity was cancelled WHEN two checks waited on it THEN they ask again, sharing one call, and get the answer", async () => {
    const { client, gate, calls } = heldZoneClient((call) => call === 1);
    const failing = {
      send: async (command: unknown) => {
        const answer = await client.send(command as never);
        if (calls() === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        return answer;
      },
    } as unknown as Route53Client;
    const adapter = createRoute53Adapter(failing);
    gate.hold();
    const inRun1 = () =>
      new MockActivityEnvironment({ workflowExecution: { workflowId: 'w', runId: 'run-1' } });
    const senderEnv = inRun1();

    const sender = senderEnv.run(() => adapter.findZone({ name: ZONE.name })).catch((e: unknown) => e);
    const waiters = [inRun1(), inRun1()].map((env) => env.run(() => adapter.findZone({ name: ZONE.name })));
    senderEnv.cancel();
    gate.release();

    await sender;
    expect(await Promise.all(waiters)).toEqual([
      { id: 'Z1', name: ZONE.name },
      { id: 'Z1', name: ZONE.name },
    ]);
    expect(calls()).toBe(2);
  });

  it('GIVEN a call sent longer ago than a read may join (queued or hung) WHEN the same read is asked THEN it sends its own call and does not wait for the old one', async () => {
    const { client, gate, calls } = heldZoneClient((call) => call === 1);
    const adapter = createRoute53Adapter(client, { joinWithinMs: 10 });
    gate.hold();

    const first = inRun('run-1', () => adapter.findZone({ name: ZONE.name }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const later = await inRun('run-1', () => adapter.findZone({ name: ZONE.name }));
    gate.release();

    expect(later.id).toBe('Z1');
    expect(calls()).toBe(2);
    await first;
  });

  it("GIVEN a check waiting on another activity's call WHEN the check's activity is cancelled THEN it stops waiting, and the call goes on for its sender", async () => {
    const { client, gate, calls } = heldZoneClient();
    const adapter = createRoute53Adapter(client);
    gate.hold();
    const senderEnv = new MockActivityEnvironment({ workflowExecution: { workflowId: 'w', runId: 'run-1' } });
    const waiterEnv = new MockActivityEnvironment({ workflowExecution: { workflowId: 'w', runId: 'run-1' } });

    const sender = senderEnv.run(() => adapter.findZone({ name: ZONE.name })) as Promise<HostedZone>;
    const waiter = waiterEnv.run(() => adapter.findZone({ name: ZONE.name })).catch((e: unknown) => e);
    waiterEnv.cancel();
    const stopped = await waiter;
    gate.release();

    expect(stopped).toMatchObject({ name: 'CancelledFailure' });
    expect((await sender).id).toBe('Z1');
    expect(calls()).toBe(1);
  });
});
