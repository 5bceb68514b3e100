import { createFlagActivities, prefixGroups } from '../../kinds/flags-set/activities';
import {
  createUnleashAdminAdapter,
  UNLEASH_ADMIN_IN_FLIGHT,
} from '../../activities/flags/unleash-admin-adapter';
import { loadConfig } from '../../worker/config';
import { createProviderPorts } from '../../worker/provider-ports';
import type { FlagsInput } from '../../kinds/flags-set/definition';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { FakeUnleash } from '../fakes/fake-unleash';
import { failureOf } from './failure-of';
import { slowPort } from './slow-port';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const degrade: FlagsInput = {
  project: 'default',
  environment: 'development',
  flags: [
    { name: 'ehr-degraded-mode', enabled: true },
    { name: 'ehr-read-only-banner', enabled: true },
    { name: 'portal-maintenance-page', enabled: false },
  ],
};

function setup(
  options: { lagReads?: number; confirmTimeoutMs?: number; addsDefaultStrategy?: boolean } = {},
) {
  const unleash = new FakeUnleash({ addsDefaultStrategy: options.addsDefaultStrategy ?? true });
  for (const name of ['ehr-degraded-mode', 'ehr-read-only-banner', 'portal-maintenance-page'])
    unleash.addFlag(name);
  const reader = unleash.reader({ lagReads: options.lagReads ?? 0 });
  const activities = createFlagActivities({
    admin: unleash,
    reader,
    watchIntervalMs: 5,
    confirmTimeoutMs: options.confirmTimeoutMs ?? 2000,
  });
  return { unleash, reader, activities };
}

describe('setFlags', () => {
  it('GIVEN flags off WHEN setting THEN only the differing flags are toggled and a client confirms them', async () => {
    const { unleash, activities } = setup();

    const outcome = await activities.setFlags(degrade);

    expect(outcome.changed).toBe(true);
    expect(unleash.toggles).toEqual([
      { name: 'ehr-degraded-mode', enabled: true },
      { name: 'ehr-read-only-banner', enabled: true },
    ]);
    expect(unleash.flags.get('ehr-degraded-mode')?.enabled).toBe(true);
    expect(outcome.facts).toMatchObject({
      'flag ehr-degraded-mode': 'off → on',
      'flag portal-maintenance-page': 'off (unchanged)',
    });
  });

  it('GIVEN the flags already hold their values WHEN setting again THEN changed:false and nothing is toggled', async () => {
    const { unleash, activities } = setup();
    await activities.setFlags(degrade);

    const second = await activities.setFlags(degrade);

    expect(second.changed).toBe(false);
    expect(unleash.toggles).toHaveLength(2);
  });

  it('GIVEN a client that sees the old values for 3 reads WHEN setting THEN it waits until the client agrees', async () => {
    const { reader, activities } = setup({ lagReads: 3 });

    const outcome = await activities.setFlags(degrade);

    expect(reader.reads).toBe(4);
    expect(outcome.facts.clientReads).toBe(4);
  });

  it('GIVEN a client that never catches up WHEN setting THEN FlagNotConfirmed says what it sees', async () => {
    const { activities } = setup({ lagReads: 1_000_000, confirmTimeoutMs: 100 });

    const error = await failureOf(activities.setFlags(degrade));

    expect(error).toMatchObject({ type: 'FlagNotConfirmed', nonRetryable: true });
    expect(error.message).toMatch(/ehr-degraded-mode is off, want on/);
  });

  it('GIVEN a server that adds no default strategy and a flag whose strategies are all disabled WHEN turning it on THEN FlagNotConfirmed says why, without waiting', async () => {
    const { unleash, reader, activities } = setup({ confirmTimeoutMs: 60_000, addsDefaultStrategy: false });
    unleash.addFlag('ehr-read-only-banner', { strategies: 1, enabledStrategies: 0 });

    const error = await failureOf(activities.setFlags(degrade));

    expect(error).toMatchObject({ type: 'FlagNotConfirmed', nonRetryable: true });
    expect(error.message).toMatch(/ehr-read-only-banner is enabled .* but has no enabled strategy/);
    expect(reader.reads).toBe(0);
  });

  it('GIVEN a flag with no enabled strategy WHEN turning it on THEN the default strategy Unleash adds makes it confirm', async () => {
    const { unleash, activities } = setup();
    unleash.addFlag('ehr-read-only-banner', { strategies: 1, enabledStrategies: 0 });

    const outcome = await activities.setFlags(degrade);

    expect(outcome.changed).toBe(true);
  });

  it('GIVEN an unknown flag WHEN setting THEN NotFound names it, non-retryable', async () => {
    const { activities } = setup();

    const error = await failureOf(
      activities.setFlags({ ...degrade, flags: [{ name: 'no-such-flag', enabled: true }] }),
    );

    expect(error).toMatchObject({ type: 'NotFound', nonRetryable: true });
    expect(error.message).toMatch(/no-such-flag/);
  });
});

describe('planFlags and checkFlags', () => {
  it("GIVEN Unleash answering each call after 20 ms WHEN checking three flags THEN each flag's admin read and the client's read go out at once, and the checks keep their order", async () => {
    const unleash = new FakeUnleash();
    for (const flag of degrade.flags) unleash.addFlag(flag.name);
    const admin = slowPort(unleash);
    const reader = slowPort(unleash.reader(), admin.inFlight);
    const activities = createFlagActivities({ admin: admin.port, reader: reader.port });

    const results = await activities.checkFlags({
      project: 'default',
      environment: 'development',
      names: degrade.flags.map((f) => f.name),
    });

    // Three admin reads, and two client reads (one per name prefix: ehr-, portal-).
    expect(admin.inFlight.most).toBe(5);
    expect(results.map((r) => r.check)).toEqual([
      'flags default/development: ehr-degraded-mode exists',
      'flags default/development: ehr-read-only-banner exists',
      'flags default/development: portal-maintenance-page exists',
      'flags development: client token reads flags',
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it('GIVEN current state WHEN planning THEN each flag says whether it will change, nothing toggles', async () => {
    const { unleash, activities } = setup();

    const plan = await activities.planFlags(degrade);

    expect(plan.map((p) => [p.target, p.current, p.desired, p.willChange])).toEqual([
      ['flag default/development ehr-degraded-mode', 'off', 'on', true],
      ['flag default/development ehr-read-only-banner', 'off', 'on', true],
      ['flag default/development portal-maintenance-page', 'off', 'off', false],
    ]);
    expect(unleash.toggles).toHaveLength(0);
  });

  it('GIVEN one unknown flag WHEN checking THEN its check and the client check fail', async () => {
    const { activities } = setup();

    const results = await activities.checkFlags({
      project: 'default',
      environment: 'development',
      names: ['ehr-degraded-mode', 'nope'],
    });

    expect(results.map((r) => r.ok)).toEqual([true, false, false]);
    expect(results[2]?.message).toMatch(/does not see nope/);
  });

  it('GIVEN pre-flight WHEN the client check reads THEN it asks with a name prefix of its own, never the query clients and the confirmation use', async () => {
    const { reader, activities } = setup();

    const results = await activities.checkFlags({
      project: 'default',
      environment: 'development',
      names: ['ehr-degraded-mode', 'ehr-read-only-banner', 'portal-maintenance-page'],
    });

    expect(results.every((r) => r.ok)).toBe(true);
    expect(reader.namePrefixes.sort()).toEqual(['ehr-', 'portal-maintenance-page']);
  });
});

describe('prefixGroups', () => {
  it('groups names by their first character under their longest common prefix', () => {
    expect(prefixGroups(['ehr-a', 'ehr-b', 'eq', 'x'])).toEqual(
      new Map([
        ['e', ['ehr-a', 'ehr-b', 'eq']],
        ['x', ['x']],
      ]),
    );
  });
});

describe('createUnleashAdminAdapter errors', () => {
  const realFetch = global.fetch;
  afterEach(() => {
    global.fetch = realFetch;
  });

  it.each([
    [401, 'AccessDenied', true, /check UNLEASH_ADMIN_TOKEN/],
    [403, 'AccessDenied', true, /check UNLEASH_ADMIN_TOKEN/],
    [404, 'NotFound', true, /no flag ehr-degraded-mode in project default/],
    [503, 'UnleashUnavailable', false, /HTTP 503/],
  ])('HTTP %i → %s (nonRetryable %s)', async (status, type, nonRetryable, message) => {
    global.fetch = (async () => new Response('{}', { status })) as typeof fetch;
    const admin = createUnleashAdminAdapter({ url: 'http://127.0.0.1:9', token: 'x' });

    const error = await failureOf(admin.getFlag('default', 'development', 'ehr-degraded-mode'));

    expect(error).toMatchObject({ type, nonRetryable });
    expect(error.message).toMatch(message);
  });

  it('a refused connection is retryable and names the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const admin = createUnleashAdminAdapter({ url, token: 'x' });

    const error = await failureOf(admin.setEnabled('default', 'development', 'ehr-degraded-mode', true));

    expect(error).toMatchObject({ type: 'ConnectionFailed', nonRetryable: false });
    expect(error.message).toContain(url);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe('the worker’s Unleash Admin API in flight', () => {
  it('GIVEN 30 flags read at once through the worker’s ports WHEN Unleash answers slowly THEN at most UNLEASH_ADMIN_IN_FLIGHT requests are open at a time, and every read answers', async () => {
    let open = 0;
    let most = 0;
    const server = createHttpServer((request, response) => {
      open++;
      most = Math.max(most, open);
      const name = decodeURIComponent(request.url?.split('/').pop() ?? '');
      setTimeout(() => {
        open--;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ name, environments: [{ name: 'development', enabled: true, strategies: [{}] }] }),
        );
      }, 20);
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as AddressInfo;
    // The worker builds an adapter per call (with the token it resolves then): the limit must be the worker's.
    const worker = createProviderPorts(
      loadConfig({ env: {}, overrides: { unleash: { url: `http://127.0.0.1:${port}`, adminToken: 'x' } } }),
    );
    try {
      const names = Array.from({ length: 30 }, (_, i) => `flag-${i}`);

      const states = await Promise.all(
        names.map((name) => worker.ports.unleashAdmin.getFlag('default', 'development', name)),
      );

      expect(states.map((state) => state.name)).toEqual(names);
      expect(most).toBe(UNLEASH_ADMIN_IN_FLIGHT);
    } finally {
      worker.close();
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    }
  });

  it('GIVEN Unleash answers 503 with a large body WHEN 40 flags are read at once THEN each fails UnleashUnavailable, and connections stay about the limit (unread bodies would hold one each)', async () => {
    let open = 0;
    let most = 0;
    const server = createHttpServer((_request, response) => {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end('x'.repeat(1024 * 1024));
    });
    server.on('connection', (socket) => {
      most = Math.max(most, ++open);
      socket.on('close', () => open--);
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as AddressInfo;
    const admin = createUnleashAdminAdapter({ url: `http://127.0.0.1:${port}`, token: 'x' });
    try {
      const names = Array.from({ length: 40 }, (_, i) => `flag-${i}`);

      const errors = await Promise.all(
        names.map((name) => failureOf(admin.getFlag('default', 'development', name))),
      );

      expect(errors.every((error) => error.type === 'UnleashUnavailable')).toBe(true);
      expect(most).toBeLessThanOrEqual(2 * UNLEASH_ADMIN_IN_FLIGHT);
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    }
  });
});
