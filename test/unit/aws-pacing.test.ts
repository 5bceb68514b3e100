import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ListHostedZonesByNameCommand,
  Route53Client,
  type ListHostedZonesByNameCommandOutput,
} from '@aws-sdk/client-route-53';
import { AwsPacer, SHARED_WINDOW_MS } from '../../activities/aws-pacing/aws-pacer';
import { keepAliveDuringCalls } from '../../activities/aws-pacing/keep-alive-client';
import { paceClient } from '../../activities/aws-pacing/paced-client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { countActivityWorkers } from '../../worker/worker-share';
import { Throttle } from '../../sandbox/strict-aws/throttling';
import { defaultStrictSettings } from '../../sandbox/strict-aws/strict-settings';
import type { StrictCall } from '../../sandbox/strict-aws/strict-call';

const OK_BODY =
  '<?xml version="1.0"?><ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZones/><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesByNameResponse>';
const THROTTLED_BODY =
  '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>';

/** A loopback Route 53 that throttles the first `throttleFirst` requests, then answers; counts requests. */
async function throttlingEndpoint(
  throttleFirst: number,
): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    requests++;
    const throttled = requests <= throttleFirst;
    res.writeHead(throttled ? 400 : 200, { 'content-type': 'text/xml' });
    res.end(throttled ? THROTTLED_BODY : OK_BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
  };
}

/** A Route 53 client of `url` that makes one attempt per call (the SDK retries nothing itself). */
function singleAttemptClient(url: string): Route53Client {
  return new Route53Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
}

/** Starts `server` on a loopback port and gives a Route 53 client that talks to it. */
async function route53ClientOf(server: Server): Promise<Route53Client> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new Route53Client({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

describe('AwsPacer', () => {
  it('GIVEN burst 5 and 40/s WHEN 13 calls are made at once THEN 5 go at once and the rest wait about 200 ms in all', async () => {
    const pacer = new AwsPacer({ route53: { burst: 5, perSecond: 40 }, rds: { burst: 1, perSecond: 1 } }, 0);
    const started = performance.now();

    const waits = await Promise.all(Array.from({ length: 13 }, () => pacer.take('route53', 'global')));

    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
    expect(pacer.stats().route53).toMatchObject({ calls: 13, waited: 8, throttles: 0 });
  });

  it('GIVEN RDS WHEN two regions are used THEN each has its own bucket', async () => {
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 2, perSecond: 1 } }, 0);

    await Promise.all([
      pacer.take('rds', 'us-east-1'),
      pacer.take('rds', 'us-east-1'),
      pacer.take('rds', 'us-west-2'),
    ]);

    expect(Object.keys(pacer.stats()).sort()).toEqual(['rds:us-east-1', 'rds:us-west-2']);
    expect(pacer.stats()['rds:us-east-1']?.waited).toBe(0);
  });

  it("GIVEN no CloudWatch limit configured WHEN 52 GetMetricData calls go at once in a region THEN AWS's 50 a second hold: 50 go at once, 2 wait; another region has its own bucket", async () => {
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 } }, 0);

    const waits = await Promise.all(Array.from({ length: 52 }, () => pacer.take('cloudwatch', 'us-west-2')));
    const otherRegion = await pacer.take('cloudwatch', 'us-east-1');

    expect(waits.filter((w) => w === 0)).toHaveLength(50);
    expect(otherRegion).toBe(0);
    expect(pacer.stats()['cloudwatch:us-west-2']).toMatchObject({ calls: 52, waited: 2 });
  });

  it('GIVEN calls waiting for tokens WHEN tokens drip in THEN the oldest step goes first, equal steps in arrival order', async () => {
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 1, perSecond: 20 } }, 0);
    await pacer.take('rds', 'us-east-1', 0); // the burst is spent: every call below waits
    const granted: string[] = [];
    const call = (name: string, scheduledAt: number) =>
      pacer.take('rds', 'us-east-1', scheduledAt).then(() => granted.push(name));

    await Promise.all([
      call('fence of a step scheduled at 3', 3),
      call('fence of a step scheduled at 1', 1),
      call('second call of the step scheduled at 3', 3),
      call('step scheduled at 2', 2),
    ]);

    expect(granted).toEqual([
      'fence of a step scheduled at 1',
      'step scheduled at 2',
      'fence of a step scheduled at 3',
      'second call of the step scheduled at 3',
    ]);
  });

  it('GIVEN calls already waiting WHEN a newer call arrives as a token drips in THEN it does not pass them', async () => {
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 1, perSecond: 20 } }, 0);
    await pacer.take('rds', 'us-east-1', 0);
    const granted: string[] = [];
    const waiting = pacer.take('rds', 'us-east-1', 1).then(() => granted.push('waiting'));
    await new Promise((resolve) => setTimeout(resolve, 80)); // a token has dripped in, not yet handed out

    await Promise.all([waiting, pacer.take('rds', 'us-east-1', 2).then(() => granted.push('newer'))]);

    expect(granted).toEqual(['waiting', 'newer']);
  });

  it('GIVEN calls waiting for tokens WHEN one is cancelled THEN it leaves the queue at once, rejecting with the reason, and its token goes to the next', async () => {
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 20 } }, 0);
    await pacer.take('route53', 'global');
    const abort = new AbortController();
    const granted: string[] = [];
    const cancelled = pacer
      .take('route53', 'global', 1, undefined, abort.signal)
      .then(() => granted.push('cancelled'))
      .catch((error: Error) => error.message);
    const next = pacer.take('route53', 'global', 2).then(() => granted.push('next'));

    abort.abort(new Error('the step was aborted'));

    expect(await cancelled).toBe('the step was aborted');
    await next;
    expect(granted).toEqual(['next']);
    expect(pacer.queueDrainMs('route53', 'global')).toBe(0);
    await expect(pacer.take('route53', 'global', 3, undefined, abort.signal)).rejects.toThrow(
      'the step was aborted',
    );
  });

  it('GIVEN two workers on the queue WHEN sharing THEN each bucket holds and refills half the budget', async () => {
    // A half-share refill every 100 ms: the ten takes are asked for well within one refill, even on a busy machine.
    const pacer = new AwsPacer({ route53: { burst: 10, perSecond: 20 }, rds: { burst: 1, perSecond: 1 } }, 0);
    pacer.setShare(2);

    const waits = await Promise.all(Array.from({ length: 10 }, () => pacer.take('route53', 'global')));

    expect(waits.filter((w) => w === 0)).toHaveLength(5);
  });

  it('GIVEN a bucket WHEN half of it is spent or a call waits THEN its budget is no longer spare', async () => {
    const pacer = new AwsPacer({ route53: { burst: 10, perSecond: 1 }, rds: { burst: 1, perSecond: 1 } }, 0);
    expect(pacer.hasSpare('route53', 'global')).toBe(true);

    await Promise.all(Array.from({ length: 5 }, () => pacer.take('route53', 'global')));
    expect(pacer.hasSpare('route53', 'global')).toBe(true);
    await pacer.take('route53', 'global');
    expect(pacer.hasSpare('route53', 'global')).toBe(false);

    const drained = new AwsPacer(
      { route53: { burst: 1, perSecond: 20 }, rds: { burst: 1, perSecond: 1 } },
      0,
    );
    await drained.take('route53', 'global');
    const waiting = drained.take('route53', 'global');
    expect(drained.hasSpare('route53', 'global', 0)).toBe(false);
    await waiting;
    await new Promise((resolve) => setTimeout(resolve, 60)); // a token drips in, nobody waits
    expect(drained.hasSpare('route53', 'global')).toBe(true);
  });

  it('GIVEN a full bucket WHEN more other runs than allowed drew on it lately THEN it is not spare for this run, and is again after the window', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-30T01:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const pacer = new AwsPacer(
        { route53: { burst: 50, perSecond: 10 }, rds: { burst: 1, perSecond: 1 } },
        0,
      );
      const shared = (forRun: string, others = 1) =>
        pacer.hasSpare('route53', 'global', 0.5, { forRun, others });
      await pacer.take('route53', 'global', undefined, 'run-a');
      expect(shared('run-a')).toBe(true);

      await pacer.take('route53', 'global', undefined, 'run-b');
      expect(shared('run-a')).toBe(true); // one other run: allowed
      expect(shared('run-a', 0)).toBe(false);
      await pacer.take('route53', 'global', undefined, 'run-c');
      expect(shared('run-a')).toBe(false); // two others
      expect(shared('run-d')).toBe(false);
      expect(pacer.hasSpare('route53', 'global')).toBe(true); // without a run: the bucket alone decides

      jest.advanceTimersByTime(SHARED_WINDOW_MS + 1);
      await pacer.take('route53', 'global', undefined, 'run-a');
      expect(shared('run-a', 0)).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('GIVEN runs drawing on a bucket that is not short THEN each may call at its even share of the refill; short THEN never', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-30T01:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const pacer = new AwsPacer({ route53: { burst: 50, perSecond: 10 } }, 0);
      const fair = (forRun: string | undefined) => pacer.fairShareIntervalMs('route53', 'global', forRun);
      expect(fair('run-a')).toBe(100); // alone: the whole refill

      await pacer.take('route53', 'global', undefined, 'run-b');
      await pacer.take('route53', 'global', undefined, 'run-c');
      expect(fair('run-a')).toBe(300); // three runs share 10 a second
      expect(fair(undefined)).toBe(300); // a call outside any run counts every run that drew, and itself
      expect(fair('run-b')).toBe(200);

      pacer.setShare(2); // two workers on the queue: this one refills at 5 a second
      expect(fair('run-a')).toBe(600);
      pacer.setShare(1);

      for (let i = 0; i < 25; i++) await pacer.take('route53', 'global');
      expect(fair('run-a')).toBe(Number.POSITIVE_INFINITY); // below half: short

      jest.advanceTimersByTime(SHARED_WINDOW_MS + 3_000); // refilled, nobody drew lately
      expect(fair('run-a')).toBe(100);
    } finally {
      jest.useRealTimers();
    }
  });

  it('GIVEN calls waiting for tokens THEN the queue drains in their number over the refill rate; nobody waiting THEN 0', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-30T01:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const pacer = new AwsPacer({ rds: { burst: 2, perSecond: 10 } }, 0);
      expect(pacer.queueDrainMs('rds', 'us-east-1')).toBe(0);
      await pacer.take('rds', 'us-east-1');
      expect(pacer.queueDrainMs('rds', 'us-east-1')).toBe(0); // a token left, nobody waiting

      await pacer.take('rds', 'us-east-1');
      const waiting = Array.from({ length: 5 }, () => pacer.take('rds', 'us-east-1'));
      expect(pacer.queueDrainMs('rds', 'us-east-1')).toBeCloseTo(500, -1);
      await jest.advanceTimersByTimeAsync(600);
      await Promise.all(waiting);
      expect(pacer.queueDrainMs('rds', 'us-east-1')).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('GIVEN many runs WHEN they stop drawing THEN the pacer forgets them', async () => {
    jest.useFakeTimers({ now: Date.parse('2026-11-30T01:00:00Z'), doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const pacer = new AwsPacer(
        { route53: { burst: 500, perSecond: 10 }, rds: { burst: 1, perSecond: 1 } },
        0,
      );
      for (let i = 0; i < 100; i++) await pacer.take('route53', 'global', undefined, `old-${i}`);
      jest.advanceTimersByTime(SHARED_WINDOW_MS + 1);
      for (let i = 0; i < 65; i++) await pacer.take('route53', 'global', undefined, `new-${i}`);
      expect(pacer.runsRemembered('route53', 'global')).toBe(65);
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts distinct activity pollers of the task queue as workers', async () => {
    const service = {
      describeTaskQueue: async () => ({
        pollers: [{ identity: 'a@host' }, { identity: 'a@host' }, { identity: 'b@host' }],
      }),
    };
    await expect(
      countActivityWorkers(service as never, { namespace: 'default', taskQueue: 'q' }),
    ).resolves.toBe(2);
    const none = { describeTaskQueue: async () => ({ pollers: [] }) };
    await expect(countActivityWorkers(none as never, { namespace: 'default', taskQueue: 'q' })).resolves.toBe(
      1,
    );
  });
});

describe('paceClient', () => {
  it('GIVEN Route 53 throttles the first 7 requests WHEN a paced client calls THEN the call succeeds: throttling slows it, it does not fail', async () => {
    const endpoint = await throttlingEndpoint(7);
    const client = new Route53Client({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 2,
    });
    const pacer = new AwsPacer({ route53: { burst: 2, perSecond: 50 }, rds: { burst: 1, perSecond: 1 } }, 0);
    paceClient(client, pacer, 'route53', 'global');
    try {
      const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'x.' }));

      expect(out.HostedZones).toEqual([]);
      expect(endpoint.requests()).toBe(8);
      expect(pacer.stats().route53?.calls).toBe(8);
      expect(pacer.stats().route53?.throttles).toBeGreaterThanOrEqual(1);
    } finally {
      client.destroy();
      endpoint.server.close();
    }
  });

  it('GIVEN a cap on throttle rounds outside an activity WHEN throttled past it THEN the throttling error surfaces', async () => {
    const endpoint = await throttlingEndpoint(100);
    const client = singleAttemptClient(endpoint.url);
    const pacer = new AwsPacer({ route53: { burst: 5, perSecond: 100 }, rds: { burst: 1, perSecond: 1 } }, 0);
    paceClient(client, pacer, 'route53', 'global', { maxThrottleRounds: 3 });
    try {
      const error = await client
        .send(new ListHostedZonesByNameCommand({ DNSName: 'x.' }))
        .catch((e: Error) => e);
      expect((error as Error).name).toBe('Throttling');
      expect(endpoint.requests()).toBe(3);
    } finally {
      client.destroy();
      endpoint.server.close();
    }
  });

  it('GIVEN a call throttled without end in an activity WHEN the activity is cancelled (timed out, aborted) THEN the call stops sending and fails: with the throttling error, or the cancellation while it waits for its next token', async () => {
    const endpoint = await throttlingEndpoint(Number.POSITIVE_INFINITY);
    const client = singleAttemptClient(endpoint.url);
    const pacer = new AwsPacer({ route53: { burst: 5, perSecond: 200 } }, 0);
    paceClient(client, pacer, 'route53', 'global');
    const env = new MockActivityEnvironment();
    try {
      const call = env
        .run(() => client.send(new ListHostedZonesByNameCommand({ DNSName: 'x.' })))
        .catch((e: Error) => e);
      while (endpoint.requests() < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      env.cancel();
      const outcome = await Promise.race([
        call,
        new Promise((resolve) => setTimeout(() => resolve('still sending after 2 s'), 2_000)),
      ]);
      const sentByThen = endpoint.requests();
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect((outcome as Error).name).toMatch(/^(Throttling|CancelledFailure)$/);
      expect(endpoint.requests()).toBe(sentByThen);
    } finally {
      client.destroy();
      endpoint.server.close();
    }
  });

  it('GIVEN a call waiting for a token in an activity WHEN the activity is cancelled (aborted, timed out) THEN the call is never sent (before: sent once its token came, a promotion after the abort)', async () => {
    const endpoint = await throttlingEndpoint(0);
    const client = singleAttemptClient(endpoint.url);
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 2 } }, 0);
    paceClient(client, pacer, 'route53', 'global');
    await pacer.take('route53', 'global'); // the bucket is empty: the next token drips in after 500 ms
    const env = new MockActivityEnvironment();
    try {
      const call = env
        .run(() => client.send(new ListHostedZonesByNameCommand({ DNSName: 'x.' })))
        .catch((e: Error) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      env.cancel();
      const outcome = await call;
      await new Promise((resolve) => setTimeout(resolve, 600)); // past the token's drip

      expect(outcome).toBeInstanceOf(Error);
      expect(endpoint.requests()).toBe(0);
    } finally {
      client.destroy();
      endpoint.server.close();
    }
  });

  it('GIVEN an endpoint that answers a call only after the activity has heartbeated twice WHEN called from an activity THEN the call keeps it alive and succeeds', async () => {
    let answer: (() => void) | undefined;
    const server = createServer((req, res) => {
      req.resume();
      answer = () => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(OK_BODY);
      };
    });
    const client = await route53ClientOf(server);
    keepAliveDuringCalls(client, 10);
    const env = new MockActivityEnvironment();
    let beats = 0;
    // The request may reach the endpoint after the first beats on a busy machine: answered at the first beat
    // from the second on that finds it waiting.
    env.on('heartbeat', () => {
      if (++beats >= 2 && answer !== undefined) {
        answer();
        answer = undefined;
      }
    });
    try {
      const out: ListHostedZonesByNameCommandOutput = await env.run(() =>
        client.send(new ListHostedZonesByNameCommand({ DNSName: 'x.' })),
      );

      expect(out.HostedZones).toEqual([]);
      expect(beats).toBeGreaterThanOrEqual(2);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('GIVEN two steps waiting for the same bucket WHEN their calls go out THEN the step scheduled earlier reaches AWS first', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      asked.push(new URL(req.url ?? '/', 'http://x').searchParams.get('dnsname') ?? '?');
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(OK_BODY);
    });
    const client = await route53ClientOf(server);
    const pacer = new AwsPacer({ route53: { burst: 1, perSecond: 10 }, rds: { burst: 1, perSecond: 1 } }, 0);
    paceClient(client, pacer, 'route53', 'global');
    const ask = (name: string, scheduledTimestampMs: number) =>
      new MockActivityEnvironment({ scheduledTimestampMs }).run(() =>
        client.send(new ListHostedZonesByNameCommand({ DNSName: name })),
      );
    try {
      await client.send(new ListHostedZonesByNameCommand({ DNSName: 'burst.' }));

      await Promise.all([
        ask('scheduled-now.', Date.now()),
        ask('scheduled-a-minute-ago.', Date.now() - 60_000),
      ]);

      expect(asked).toEqual(['burst.', 'scheduled-a-minute-ago.', 'scheduled-now.']);
    } finally {
      client.destroy();
      server.close();
    }
  });

  describe('against the strict layer’s bucket, with calls arriving late', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    /**
     * 30 RDS calls at once, paced, then handed to the sandbox's emulation of AWS's bucket (same burst and rate).
     * The burst's calls reach it 100 ms after their tokens (a slow first round trip), later calls at once:
     * AWS's bucket starts 100 ms later than the pacer's, so the first call paced after the burst finds it empty.
     */
    async function throttledAtTheLayer(pacer: AwsPacer): Promise<number> {
      const limit = { burst: 10, perSecond: 10 };
      const settings = defaultStrictSettings();
      settings.throttling = { ...settings.throttling, enabled: true, rds: limit };
      const layer = new Throttle(() => settings);
      const call = {
        info: { service: 'rds', operation: 'DescribeDBInstances' },
        region: 'us-east-1',
      } as unknown as StrictCall;
      let throttled = 0;
      const calls = Array.from({ length: 30 }, async (_, index) => {
        await pacer.take('rds', 'us-east-1');
        if (index < limit.burst) await new Promise((resolve) => setTimeout(resolve, 100));
        if (layer.take(call) !== undefined) throttled++;
      });
      await jest.advanceTimersByTimeAsync(5_000);
      await Promise.all(calls);
      return throttled;
    }

    it('GIVEN no allowance for late arrivals WHEN paced to the exact limit THEN AWS throttles calls', async () => {
      const exact = new AwsPacer(
        { route53: { burst: 1, perSecond: 1 }, rds: { burst: 10, perSecond: 10 } },
        0,
      );

      expect(await throttledAtTheLayer(exact)).toBeGreaterThan(0);
    });

    it('GIVEN the default jitter reserve WHEN the same calls arrive as late THEN none is throttled', async () => {
      const paced = new AwsPacer({ route53: { burst: 1, perSecond: 1 }, rds: { burst: 10, perSecond: 10 } });

      expect(await throttledAtTheLayer(paced)).toBe(0);
    });
  });
});
