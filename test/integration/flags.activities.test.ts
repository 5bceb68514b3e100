import { ApplicationFailure } from '@temporalio/common';
import { createFlagActivities } from '../../kinds/flags-set/activities';
import { createUnleashAdminAdapter } from '../../activities/flags/unleash-admin-adapter';
import { createUnleashClientReader } from '../../activities/flags/unleash-client-reader';
import type { FlagsInput } from '../../kinds/flags-set/definition';
import { getStack } from './stack';

/**
 * setFlags against the sandbox's real Unleash, confirmed through a real unleash-client. Toggles go to flags of
 * this test's own (created here, archived and deleted at the end) so a concurrent drill's seeded flags are not
 * disturbed; the seeded flags are only read.
 */
describe('flag activities against Unleash', () => {
  const stack = getStack();
  const { url, adminToken, clientToken, project, environment } = stack.unleash;
  const suffix = `${process.pid}`;
  const flag = `drctl-it-flag-${suffix}`;
  const zeroRolloutFlag = `drctl-it-zero-rollout-${suffix}`;
  const admin = createUnleashAdminAdapter({ url, token: adminToken });
  const activities = createFlagActivities({
    admin,
    reader: createUnleashClientReader({ url, clientToken }),
    confirmTimeoutMs: 20_000,
  });
  /** An independent client, separate from the one setFlags confirms with, to read the effect back. */
  const observer = createUnleashClientReader({ url, clientToken, appName: 'drctl-it-observer' });

  async function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response;
  }

  async function createFlag(name: string, rollout: string): Promise<void> {
    const features = `/api/admin/projects/${project}/features`;
    await adminCall('POST', features, { name, type: 'kill-switch' });
    await adminCall('POST', `${features}/${name}/environments/${environment}/strategies`, {
      name: 'flexibleRollout',
      constraints: [],
      parameters: { rollout, stickiness: 'default', groupId: name },
    });
  }

  beforeAll(async () => {
    await createFlag(flag, '100');
    await createFlag(zeroRolloutFlag, '0');
    // Unleash serves client features from a cache it refreshes on its own schedule: a flag created a moment
    // ago can still be unknown (null) to a client. Start once clients know it, as they would in production.
    const deadline = Date.now() + 30_000;
    while ((await observer.read([flag]))[flag] === null) {
      if (Date.now() > deadline) throw new Error(`Unleash clients never saw the new flag ${flag}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  afterAll(async () => {
    for (const name of [flag, zeroRolloutFlag]) {
      await adminCall('DELETE', `/api/admin/projects/${project}/features/${name}`).catch(() => undefined);
      await adminCall('DELETE', `/api/admin/archive/${name}`).catch(() => undefined);
    }
  });

  it('GIVEN the seeded flags WHEN checking THEN each exists and the client token reads them', async () => {
    const results = await activities.checkFlags({ project, environment, names: stack.unleash.flags });

    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.at(-1)?.message).toMatch(/ehr-degraded-mode=(on|off)/);
  });

  it('GIVEN a flag off WHEN setting it on THEN a real client sees it on; a re-run changes nothing; off again restores it', async () => {
    const on: FlagsInput = { project, environment, flags: [{ name: flag, enabled: true }] };
    expect(await observer.read([flag])).toEqual({ [flag]: false });

    const first = await activities.setFlags(on);
    expect(first.changed).toBe(true);
    expect(first.facts[`flag ${flag}`]).toBe('off → on');
    expect(await observer.read([flag])).toEqual({ [flag]: true });

    const again = await activities.setFlags(on);
    expect(again.changed).toBe(false);
    expect(await admin.getFlag(project, environment, flag)).toMatchObject({ enabled: true });

    const off = await activities.setFlags({ project, environment, flags: [{ name: flag, enabled: false }] });
    expect(off.changed).toBe(true);
    expect(await observer.read([flag])).toEqual({ [flag]: false });
  });

  it('GIVEN pre-flight read the flags WHEN the flag step changes one THEN a client reading as applications do sees it at once, not after the next revision tick', async () => {
    // A change starts a new revision; once Unleash has moved to it (it looks once a second), nothing has read the
    // applications' query at that revision yet.
    await admin.setEnabled(project, environment, zeroRolloutFlag, true);
    await admin.setEnabled(project, environment, zeroRolloutFlag, false);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    await activities.checkFlags({ project, environment, names: [flag] });
    await admin.setEnabled(project, environment, flag, true);
    const seen = await observer.read([flag]);
    await admin.setEnabled(project, environment, flag, false);

    expect(seen).toEqual({ [flag]: true });
  });

  // Unleash 7 adds a default 100 % strategy when a flag with no enabled strategy is turned on, so the case that
  // really reaches no client is a strategy that excludes it (0 % rollout, a constraint): only a client read tells.
  it('GIVEN a flag whose strategy rolls out to 0 % WHEN turning it on THEN the client never confirms: FlagNotConfirmed', async () => {
    const strict = createFlagActivities({ admin, reader: observer, confirmTimeoutMs: 3000 });

    const error = await strict
      .setFlags({ project, environment, flags: [{ name: zeroRolloutFlag, enabled: true }] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'FlagNotConfirmed', nonRetryable: true });
    expect((error as Error).message).toMatch(
      new RegExp(`client still sees: ${zeroRolloutFlag} is off, want on`),
    );
    await strict.setFlags({ project, environment, flags: [{ name: zeroRolloutFlag, enabled: false }] });
    expect(await admin.getFlag(project, environment, zeroRolloutFlag)).toMatchObject({ enabled: false });
  });

  it('GIVEN an unknown flag or a bad admin token WHEN setting THEN the failure is permanent and says what to fix', async () => {
    const missing = await activities
      .setFlags({ project, environment, flags: [{ name: 'drctl-no-such-flag', enabled: true }] })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ type: 'NotFound', nonRetryable: true });

    const badToken = createFlagActivities({
      admin: createUnleashAdminAdapter({ url, token: 'not-a-token' }),
      reader: observer,
    });
    const denied = await badToken
      .setFlags({ project, environment, flags: [{ name: flag, enabled: true }] })
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
    expect((denied as Error).message).toMatch(/UNLEASH_ADMIN_TOKEN/);

    const badClient = createUnleashClientReader({ url, clientToken: 'not-a-token' });
    const refused = await badClient.read([flag]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: 'AccessDenied', nonRetryable: true });
    expect((refused as Error).message).toMatch(/UNLEASH_CLIENT_TOKEN/);
  });
});
