import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AwsPacer } from '../../activities/aws-pacing/aws-pacer';
import { paceClient } from '../../activities/aws-pacing/paced-client';
import { createRdsAdapter, rdsGatherMs, SHORT_BUDGET_GATHER_MS } from '../../activities/database/rds-adapter';
import type { RdsInstance } from '../../activities/database/rds-port';
import { heldCalls, twoActivities } from './held-calls';

/** An RDS endpoint holding `count` instances per region; records every DescribeDBInstances it answers. */
function fleetClient(count: number, region: string) {
  const calls: Array<{ ids: string[] }> = [];
  const gate = heldCalls();
  const client = {
    send: async (command: {
      constructor: { name: string };
      input: { Filters?: Array<{ Values: string[] }> };
    }) => {
      if (command.constructor.name !== 'DescribeDBInstancesCommand') throw new Error('unexpected call');
      const ids = command.input.Filters?.[0]?.Values ?? [];
      calls.push({ ids });
      await gate.passed();
      return {
        DBInstances: ids
          .filter((id) => Number(id.split('-')[1]) < count)
          .map((id) => ({
            DBInstanceIdentifier: id,
            DBInstanceArn: `arn:aws:rds:${region}:1:db:${id}`,
            DBInstanceStatus: 'available',
            Endpoint: { Address: `${id}.example`, Port: 5432 },
          })),
      };
    },
  } as unknown as RDSClient;
  return {
    client,
    calls,
    holdCalls: gate.hold,
    releaseCalls: gate.release,
  };
}

const EMPTY_DESCRIBE =
  '<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances/></DescribeDBInstancesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBInstancesResponse>';

const THROTTLED_DESCRIBE =
  '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>';

/**
 * A loopback RDS that throttles the first `throttleFirst` DescribeDBInstances and answers the rest with no
 * instance, behind a paced worker adapter (RDS bucket of 1, refilled at `perSecond`); counts the describes.
 */
async function pacedRdsEndpoint(throttleFirst: number, perSecond: number) {
  let describes = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      describes++;
      const throttled = describes <= throttleFirst;
      res.writeHead(throttled ? 400 : 200, { 'content-type': 'text/xml' });
      res.end(throttled ? THROTTLED_DESCRIBE : EMPTY_DESCRIBE);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new RDSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 1, perSecond } }, 0);
  paceClient(client, pacer, 'rds', 'us-east-1');
  return {
    pacer,
    rds: createRdsAdapter(() => client, undefined, { gatherMs: () => 0 }),
    describes: () => describes,
    close() {
      client.destroy();
      server.close();
    },
  };
}

describe('RDS adapter: describes are coalesced', () => {
  it('GIVEN 200 instances read at once WHEN describing THEN two DescribeDBInstances calls of 100 answer all of them', async () => {
    const endpoint = fleetClient(200, 'us-west-2');
    const rds = createRdsAdapter(() => endpoint.client);
    const ids = Array.from({ length: 200 }, (_, i) => `replica-${i}`);

    const instances = await Promise.all(ids.map((id) => rds.describeInstance('us-west-2', id)));

    expect(endpoint.calls.map((c) => c.ids.length)).toEqual([100, 100]);
    expect(instances.map((i) => i?.instanceId)).toEqual(ids);
    expect(instances[7]?.endpoint).toBe('replica-7.example');
  });

  it('GIVEN a describe in flight WHEN 50 more reads arrive THEN they wait and leave together in one call', async () => {
    const endpoint = fleetClient(100, 'us-east-1');
    const rds = createRdsAdapter(() => endpoint.client);
    endpoint.holdCalls();
    const first = rds.describeInstance('us-east-1', 'replica-0');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const later = Array.from({ length: 50 }, (_, i) => rds.describeInstance('us-east-1', `replica-${i + 1}`));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(endpoint.calls).toHaveLength(1);

    endpoint.releaseCalls();
    await first;
    const answered = await Promise.all(later);

    expect(endpoint.calls.map((c) => c.ids.length)).toEqual([1, 50]);
    expect(answered.every((i) => i !== null)).toBe(true);
  });

  it('GIVEN the region’s budget is short WHEN reads arrive within the gathering window THEN they leave as one describe; with budget to spare each goes at once', async () => {
    const endpoint = fleetClient(10, 'us-east-1');
    let short = true;
    const rds = createRdsAdapter(() => endpoint.client, undefined, { gatherMs: () => (short ? 200 : 0) });
    const first = rds.describeInstance('us-east-1', 'replica-1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = rds.describeInstance('us-east-1', 'replica-2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = rds.describeInstance('us-east-1', 'replica-3');
    await Promise.all([first, second, third]);

    short = false;
    await rds.describeInstance('us-east-1', 'replica-4');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await rds.describeInstance('us-east-1', 'replica-5');

    expect(endpoint.calls.map((c) => c.ids)).toEqual([
      ['replica-1', 'replica-2', 'replica-3'],
      ['replica-4'],
      ['replica-5'],
    ]);
  });

  it('GIVEN the worker’s RDS bucket mostly spent WHEN no call waits for a token THEN reads go at once; once a call waits THEN they gather', async () => {
    const endpoint = fleetClient(10, 'us-east-1');
    const pacer = new AwsPacer({ rds: { burst: 10, perSecond: 1 } }, 0);
    for (let i = 0; i < 9; i++) await pacer.take('rds', 'us-east-1');
    const rds = createRdsAdapter(() => endpoint.client, undefined, { gatherMs: rdsGatherMs(pacer) });

    // The tail of an evacuation: the last fences poll, nothing else asks for the bucket's few tokens.
    const first = rds.describeInstance('us-east-1', 'replica-1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([first, rds.describeInstance('us-east-1', 'replica-2')]);
    expect(endpoint.calls.map((c) => c.ids)).toEqual([['replica-1'], ['replica-2']]);

    await pacer.take('rds', 'us-east-1');
    const waiting = pacer.take('rds', 'us-east-1'); // the bucket is empty: this call waits for the next token
    const third = rds.describeInstance('us-east-1', 'replica-3');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([third, rds.describeInstance('us-east-1', 'replica-4')]);
    await waiting;

    expect(endpoint.calls.map((c) => c.ids)).toEqual([
      ['replica-1'],
      ['replica-2'],
      ['replica-3', 'replica-4'],
    ]);
  });

  it('GIVEN the last few calls waiting for tokens WHEN a read comes THEN it gathers only while they wait, not the whole window; behind a long queue it gathers the whole window', async () => {
    const endpoint = fleetClient(10, 'us-east-1');
    // 20 tokens a second: one waiting call is served within 50 ms; 40 waiting calls take two seconds.
    const pacer = new AwsPacer({ rds: { burst: 1, perSecond: 20 } }, 0);
    const rds = createRdsAdapter(() => endpoint.client, undefined, { gatherMs: rdsGatherMs(pacer) });
    const queue = async (calls: number) => {
      await pacer.take('rds', 'us-east-1'); // the bucket's only token
      return Promise.all(Array.from({ length: calls }, () => pacer.take('rds', 'us-east-1')));
    };

    // The tail of an evacuation: one last reboot waits; a fence's read must not wait a second for company.
    const lastReboot = queue(1);
    const tailRead = rds.describeInstance('us-east-1', 'replica-1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(endpoint.calls.map((c) => c.ids)).toEqual([['replica-1']]);
    await Promise.all([tailRead, lastReboot]);

    // Mid-evacuation: 40 fence calls wait (two seconds' refill), so a read gathers the whole window, 1 s.
    const fences = queue(40);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pacer.queueDrainMs('rds', 'us-east-1')).toBeGreaterThan(1_900);
    expect(rdsGatherMs(pacer)('us-east-1')).toBe(SHORT_BUDGET_GATHER_MS);
    const first = rds.describeInstance('us-east-1', 'replica-2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = rds.describeInstance('us-east-1', 'replica-3');
    await Promise.all([first, second]);
    expect(endpoint.calls.map((c) => c.ids)).toEqual([['replica-1'], ['replica-2', 'replica-3']]);
    await fences;
  });

  it('GIVEN an instance that does not exist in a batch WHEN describing THEN it alone reads as null', async () => {
    const endpoint = fleetClient(3, 'us-east-1');
    const rds = createRdsAdapter(() => endpoint.client);

    const [present, missing] = await Promise.all([
      rds.describeInstance('us-east-1', 'replica-1'),
      rds.describeInstance('us-east-1', 'replica-9'),
    ]);

    expect(present?.instanceId).toBe('replica-1');
    expect(missing).toBeNull();
    expect(endpoint.calls).toHaveLength(1);
  });

  it('GIVEN two activities whose reads share one describe held by the endpoint WHEN they wait THEN each heartbeats while waiting', async () => {
    const endpoint = fleetClient(10, 'us-east-1');
    const rds = createRdsAdapter(() => endpoint.client, undefined, { keepAliveMs: 10 });
    endpoint.holdCalls();
    const { opener, joiner, beats, untilBothBeat } = twoActivities();

    const read = (env: MockActivityEnvironment, id: string): Promise<RdsInstance | null> =>
      env.run(() => rds.describeInstance('us-east-1', id));
    const reads = [read(opener, 'replica-1'), read(joiner, 'replica-2')];
    await untilBothBeat(2);
    endpoint.releaseCalls();
    const [one, two] = await Promise.all(reads);

    expect(endpoint.calls.map((c) => c.ids)).toEqual([['replica-1', 'replica-2']]);
    expect([one?.instanceId, two?.instanceId]).toEqual(['replica-1', 'replica-2']);
    expect(beats.opener).toBeGreaterThanOrEqual(2);
    expect(beats.joiner).toBeGreaterThanOrEqual(2);
  });

  it('GIVEN 50 fences asking for the same security group at once WHEN one EC2 call is in flight THEN they share it, and a read after it answered asks again', async () => {
    const asked: unknown[] = [];
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ec2 = {
      send: async (command: { constructor: { name: string }; input: unknown }) => {
        if (command.constructor.name !== 'DescribeSecurityGroupsCommand') throw new Error('unexpected call');
        asked.push(command.input);
        await held;
        return {
          SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'drctl-fence', VpcId: 'vpc-1', IpPermissions: [] }],
        };
      },
    } as unknown as EC2Client;
    const rds = createRdsAdapter(
      () => fleetClient(0, 'us-east-1').client,
      () => ec2,
    );
    const query = { name: 'drctl-fence', vpcId: 'vpc-1' };

    const reads = Array.from({ length: 50 }, () => rds.findSecurityGroups('us-east-1', query));
    release?.();
    const groups = await Promise.all(reads);
    const later = await rds.findSecurityGroups('us-east-1', query);

    expect(asked).toHaveLength(2);
    expect(groups.every((g) => g[0]?.id === 'sg-1' && g[0].inboundRules === 0)).toBe(true);
    expect(later[0]?.id).toBe('sg-1');
  });
});

describe('RDS adapter: a coalesced describe under the pacer', () => {
  it('GIVEN a batch waiting for a token WHEN the step whose activity opened it is cancelled THEN the batch still goes, and the other step’s read in it is answered (a cancelled step’s own calls are never sent)', async () => {
    const endpoint = await pacedRdsEndpoint(0, 4);
    const opener = new MockActivityEnvironment();
    const other = new MockActivityEnvironment();
    try {
      await endpoint.pacer.take('rds', 'us-east-1', 0); // the burst is spent: the batch waits for the next token
      const opened = opener
        .run(() => endpoint.rds.describeInstance('us-east-1', 'cancelled-step'))
        .catch((e: Error) => e);
      const joined = other.run(() => endpoint.rds.describeInstance('us-east-1', 'other-step'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      opener.cancel();

      expect(await joined).toBeNull();
      expect(endpoint.describes()).toBe(1);
      await opened;
    } finally {
      endpoint.close();
    }
  });

  it('GIVEN a batch AWS throttles WHEN the step whose activity opened it is cancelled meanwhile THEN the batch is sent again until answered, for the other step’s read (before: that read failed with Throttling)', async () => {
    const endpoint = await pacedRdsEndpoint(4, 20);
    const opener = new MockActivityEnvironment();
    const other = new MockActivityEnvironment();
    try {
      const opened = opener
        .run(() => endpoint.rds.describeInstance('us-east-1', 'cancelled-step'))
        .catch((e: Error) => e);
      const joined = other.run(() => endpoint.rds.describeInstance('us-east-1', 'other-step'));
      while (endpoint.describes() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      opener.cancel();

      expect(await joined).toBeNull();
      expect(endpoint.describes()).toBe(5);
      await opened;
    } finally {
      endpoint.close();
    }
  });

  it('GIVEN a batch AWS throttles without end WHEN every step reading through it is cancelled THEN it stops sending, and each step stops waiting at once (before this, an orphan batch was sent again for as long as the throttling lasted)', async () => {
    const endpoint = await pacedRdsEndpoint(Number.POSITIVE_INFINITY, 50);
    const steps = [new MockActivityEnvironment(), new MockActivityEnvironment()];
    try {
      const reads = steps.map((step, i) =>
        step.run(() => endpoint.rds.describeInstance('us-east-1', `step-${i}`)).catch((e: Error) => e.name),
      );
      while (endpoint.describes() < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const step of steps) step.cancel();

      expect(await Promise.all(reads)).toEqual(['CancelledFailure', 'CancelledFailure']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sentByThen = endpoint.describes();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(endpoint.describes()).toBe(sentByThen);
    } finally {
      endpoint.close();
    }
  });

  it('GIVEN a batch sent by a new step that carries an old step’s read WHEN tokens are short THEN it goes before a middle-aged step’s call', async () => {
    const happened: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const ids = [...new URLSearchParams(body)]
          .filter(([key]) => key.includes('Values'))
          .map(([, v]) => v);
        happened.push(`describe ${ids.sort().join(',')}`);
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(EMPTY_DESCRIBE);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new RDSClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // One token every 500 ms: the batch and the other call are both waiting when the next one drips in.
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 1, perSecond: 2 } }, 0);
    paceClient(client, pacer, 'rds', 'us-east-1');
    const rds = createRdsAdapter(() => client);
    const now = Date.now();
    const readAs = (scheduledTimestampMs: number, id: string) =>
      new MockActivityEnvironment({ scheduledTimestampMs }).run(() => rds.describeInstance('us-east-1', id));
    try {
      await pacer.take('rds', 'us-east-1', 0); // the burst is spent
      const middleAged = pacer
        .take('rds', 'us-east-1', now - 30_000)
        .then(() => happened.push('middle-aged call'));

      await Promise.all([readAs(now, 'opened-by-new'), readAs(now - 60_000, 'old-step'), middleAged]);

      expect(happened).toEqual(['describe old-step,opened-by-new', 'middle-aged call']);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
