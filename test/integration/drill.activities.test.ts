import { randomUUID } from 'node:crypto';
import { sandboxInjections } from '../../sandbox/operator-seed';
import { Route53Client } from '@aws-sdk/client-route-53';
import { Client } from 'pg';
import type { DrillActivities } from '../../activities/drill-contracts';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { createRoute53Adapter } from '../../activities/dns/route53-adapter';
import { resolveRecord } from '../../activities/dns/resolve-record';
import { createCanaryAdapter } from '../../activities/drill/canary-adapter';
import { createDrillActivities } from '../../activities/drill/drill-activities';
import type { DatabaseTarget } from '../../runbooks/schema';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { pointRecordAt } from './estate-writers';
import { getStack } from './stack';

/**
 * The drill activities against the real sandbox pair: a canary on the primary, a real fence or crash, a real
 * promotion, and the loss measured on the promoted server compared with what the servers themselves hold.
 */
const INTERVAL_MS = 100;
/** The walreceiver stops a few ms after the cut's reload returns. */
const CUT_SETTLE_MS = 50;

/** max(written_at) of the drill's canary rows on a server, at or before `notAfter` (epoch ms). */
async function newestWrittenAt(url: string, drillId: string, notAfter: string): Promise<number> {
  const [row] = await query<{ newest: Date }>(
    url,
    'select max(written_at) as newest from drctl_canary where drill_id = $1 and written_at <= $2',
    [drillId, notAfter],
  );
  return row!.newest.getTime();
}
const RECORD = 'ehr-db.sandbox.drctl.internal.';
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: StackInfo = getStack();
const route53Client = new Route53Client({
  region: 'us-east-1',
  endpoint: stack.moto.endpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

function drillActivities(s: StackInfo): DrillActivities {
  const connections = {
    'ehr-primary': s.postgres.primaryUrl,
    'ehr-replica': s.postgres.replicaUrl,
    'ehr-app': s.postgres.appUrl,
  };
  const route53 = createRoute53Adapter(route53Client);
  return createDrillActivities({
    canary: createCanaryAdapter({ connections }),
    postgres: createPostgresAdapter({ connections }),
    rds: undefined as never,
    resolveHost: (zone, record) => resolveRecord(route53, zone, record, 'A'),
    injections: sandboxInjections(),
  });
}

const APPLICATION_ROLES = ['ehr_app'];
const target: DatabaseTarget = {
  provider: 'postgres',
  primary: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
  replica: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
  applicationRoles: APPLICATION_ROLES,
  maxLag: '30s',
};

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Promotes the replica as drctl's promotion does: out of recovery, and the application roles get back the LOGIN
 * that a fence of the old primary took away and replication carried over.
 */
async function promoteReplica(): Promise<void> {
  const [row] = await query<{ promoted: boolean }>(
    stack.postgres.replicaUrl,
    'select pg_promote(true, 60) as promoted',
  );
  expect(row?.promoted).toBe(true);
  for (const role of APPLICATION_ROLES) await query(stack.postgres.replicaUrl, `alter role ${role} login`);
}

/** Stops WAL delivery to the standby (STACK-NOTES: the way to create real loss); returns when it stopped. */
async function cutWalDelivery(): Promise<number> {
  await query(stack.postgres.replicaUrl, "alter system set primary_conninfo = ''");
  await query(stack.postgres.replicaUrl, 'select pg_reload_conf()');
  const cutAt = Date.now();
  for (let i = 0; i < 100; i += 1) {
    const rows = await query(stack.postgres.replicaUrl, 'select 1 from pg_stat_wal_receiver');
    if (rows.length === 0) return cutAt;
    await wait(10);
  }
  throw new Error('the walreceiver did not stop within 1 s of clearing primary_conninfo');
}

function startCanary(drill: DrillActivities, drillId: string) {
  return drill.runCanary({
    drillId,
    connection: 'ehr-app',
    intervalMs: INTERVAL_MS,
    stopAfterFailingMs: 1000,
    maxDurationMs: 60_000,
  });
}

beforeEach(async () => {
  stack = await resetStack({ only: ['postgres'] });
});

afterAll(async () => {
  await resetStack({ only: ['postgres'] });
  route53Client.destroy();
});

describe('drill activities on the sandbox pair', () => {
  it('GIVEN streaming replication WHEN the primary is fenced and the replica promoted THEN nothing acknowledged is lost and RPO is the time since the last acknowledged write', async () => {
    const drill = drillActivities(stack);
    const drillId = `it-nocut-${randomUUID()}`;
    const canaryRun = startCanary(drill, drillId);
    await wait(2000);

    const injection = await drill.injectFailure({
      database: { name: 'ehr', target },
      action: 'fence-primary',
    });
    const canary = await canaryRun;
    await promoteReplica();
    const measured = await drill.measureDataLoss({
      drillId,
      connection: 'ehr-replica',
      injectedAt: injection.inEffectAt as string,
      canary,
    });

    expect(injection.alreadyInEffect).toBe(false);
    expect(canary.stoppedBecause).toBe('writes-failing');
    // The RTO's origin is the start of the fence, no later than the first write a client saw fail; the RPO's end is
    // when the fence had returned, no earlier than the last write the old primary acknowledged.
    expect(Date.parse(injection.injectedAt)).toBeLessThanOrEqual(Date.parse(canary.writesFailingSince ?? ''));
    expect(Date.parse(canary.lastAcknowledgedAt ?? '')).toBeLessThanOrEqual(
      Date.parse(injection.inEffectAt as string),
    );
    expect(Date.parse(injection.injectedAt)).toBeLessThan(Date.parse(injection.inEffectAt as string));
    expect(canary.acknowledged).toBeGreaterThanOrEqual(15);
    // The fenced old primary stays readable: it holds exactly what the canary says was acknowledged.
    const [old] = await query<{ n: number }>(
      stack.postgres.primaryUrl,
      'select count(*)::int as n from drctl_canary where drill_id = $1 and seq <> all($2::bigint[])',
      [drillId, canary.unconfirmedSeqs ?? []],
    );
    expect(old?.n).toBe(canary.acknowledged);
    expect(measured.lostRows).toBe(0);
    expect(measured.presentRows).toBeGreaterThanOrEqual(canary.acknowledged);
    expect(measured.newestPresentSeq).toBe(canary.lastAcknowledgedSeq);
    // The promoted copy ends at the last acknowledged write (client timestamps, the clock that timed the
    // injection). Not bounded by the canary's interval: the fence's own time on a loaded machine comes on top.
    expect(measured.rpoMs).toBe(
      Date.parse(injection.inEffectAt as string) - Date.parse(canary.lastAcknowledgedAt ?? ''),
    );
  });

  it('GIVEN WAL delivery cut 2 s before the fence WHEN measured on the promoted replica THEN RPO is those 2 s and lostRows the rows acknowledged after the cut', async () => {
    const drill = drillActivities(stack);
    const drillId = `it-cut-${randomUUID()}`;
    const canaryRun = startCanary(drill, drillId);
    await wait(1000);

    const cutAt = await cutWalDelivery();
    await wait(2000 - (Date.now() - cutAt));
    const injection = await drill.injectFailure({
      database: { name: 'ehr', target },
      action: 'fence-primary',
    });
    const canary = await canaryRun;
    await promoteReplica();
    const measured = await drill.measureDataLoss({
      drillId,
      connection: 'ehr-replica',
      injectedAt: injection.inEffectAt as string,
      canary,
    });

    const injectedAfterCutMs = Date.parse(injection.inEffectAt as string) - cutAt;
    // Ground truth from the servers: acknowledged rows the (readable, fenced) old primary has and the promoted one lacks.
    const onOld = await query<{ seq: string; written_at: Date }>(
      stack.postgres.primaryUrl,
      'select seq::text, written_at from drctl_canary where drill_id = $1 and seq <> all($2::bigint[]) order by seq',
      [drillId, canary.unconfirmedSeqs ?? []],
    );
    const onPromoted = new Set(
      (
        await query<{ seq: string }>(
          stack.postgres.replicaUrl,
          'select seq::text from drctl_canary where drill_id = $1',
          [drillId],
        )
      ).map((r) => r.seq),
    );
    const missing = onOld.filter((r) => !onPromoted.has(r.seq));
    const ackedAfterCut = onOld.filter((r) => r.written_at.getTime() >= cutAt).length;
    process.stderr.write(
      `honesty check: rpoMs=${measured.rpoMs} (injected ${injectedAfterCutMs} ms after the cut), lostRows=${measured.lostRows}, missing on promoted=${missing.length}, acknowledged after cut=${ackedAfterCut}, acknowledged=${canary.acknowledged}\n`,
    );

    expect(onOld).toHaveLength(canary.acknowledged);
    // RPO against the servers, not the test's sleep (a loaded machine fences later than 2 s after the cut): the
    // promoted copy ends at its newest row; the first row it lacks was written at the cut, not before it.
    const newestOnPromoted = await newestWrittenAt(
      stack.postgres.replicaUrl,
      drillId,
      injection.inEffectAt as string,
    );
    expect(
      Math.abs(measured.rpoMs - (Date.parse(injection.inEffectAt as string) - newestOnPromoted)),
    ).toBeLessThanOrEqual(1);
    expect(newestOnPromoted).toBeLessThanOrEqual(cutAt + CUT_SETTLE_MS);
    expect(missing[0]!.written_at.getTime()).toBeGreaterThanOrEqual(cutAt - CUT_SETTLE_MS);
    expect(measured.rpoMs).toBeGreaterThanOrEqual(injectedAfterCutMs - CUT_SETTLE_MS);
    expect(measured.lostRows).toBe(missing.length);
    // The walreceiver stops a few ms after the reload: at most one row stamped around the cut may have crossed.
    expect(Math.abs(measured.lostRows - ackedAfterCut)).toBeLessThanOrEqual(1);
    // The canary writes at most one row per interval; 2 s after the cut it has written about 20.
    expect(measured.lostRows).toBeGreaterThanOrEqual(10);
    expect(measured.lostRows).toBeLessThanOrEqual(Math.ceil(injectedAfterCutMs / INTERVAL_MS) + 1);
  });

  it('GIVEN WAL delivery cut WHEN the primary is crashed with the sandbox kill-primary command THEN the loss is what was acknowledged after the cut', async () => {
    const drill = drillActivities(stack);
    const drillId = `it-kill-${randomUUID()}`;
    const canaryRun = startCanary(drill, drillId);
    await wait(1000);

    const cutAt = await cutWalDelivery();
    await wait(2000 - (Date.now() - cutAt));
    const commandStarted = Date.now();
    const injection = await drill.injectFailure({
      database: { name: 'ehr', target },
      action: 'stop-primary',
      inject: 'stop-primary-vm',
    });
    const canary = await canaryRun;
    await promoteReplica();
    const measured = await drill.measureDataLoss({
      drillId,
      connection: 'ehr-replica',
      injectedAt: injection.inEffectAt as string,
      canary,
    });

    const injectedAfterCutMs = Date.parse(injection.inEffectAt as string) - cutAt;
    process.stderr.write(
      `kill-primary: command took ${Date.parse(injection.inEffectAt as string) - commandStarted} ms; rpoMs=${measured.rpoMs} (injected ${injectedAfterCutMs} ms after the cut), lostRows=${measured.lostRows}, acknowledged=${canary.acknowledged}, lastSeq=${canary.lastAcknowledgedSeq}, newestPresentSeq=${measured.newestPresentSeq}\n`,
    );
    expect(injection.summary).toMatch(/postgres primary stopped/);
    expect(canary.stoppedBecause).toBe('writes-failing');
    // RPO runs from the promoted copy's newest row (the last written before the cut) to the injection.
    const newestOnPromoted = await newestWrittenAt(
      stack.postgres.replicaUrl,
      drillId,
      injection.inEffectAt as string,
    );
    expect(
      Math.abs(measured.rpoMs - (Date.parse(injection.inEffectAt as string) - newestOnPromoted)),
    ).toBeLessThanOrEqual(1);
    expect(newestOnPromoted).toBeLessThanOrEqual(cutAt + CUT_SETTLE_MS);
    expect(measured.rpoMs).toBeGreaterThanOrEqual(injectedAfterCutMs - CUT_SETTLE_MS);
    // Acknowledged rows after the last one delivered: the canary numbers every sent write, so with no
    // failure before the crash they are the seqs after the newest present one (less any unconfirmed).
    // (A write sent after the last acknowledged one, when the server died, is unconfirmed but was never counted.)
    const unconfirmedAfter = (canary.unconfirmedSeqs ?? []).filter(
      (s) => s > measured.newestPresentSeq && s <= canary.lastAcknowledgedSeq,
    );
    expect(measured.lostRows).toBe(
      canary.lastAcknowledgedSeq - measured.newestPresentSeq - unconfirmedAfter.length,
    );
    // The canary writes at most one row per interval: the rows acknowledged after the cut bound the loss.
    const lastAckMs = Date.parse(canary.lastAcknowledgedAt!);
    expect(measured.lostRows).toBeGreaterThanOrEqual(1);
    expect(measured.lostRows).toBeLessThanOrEqual(Math.ceil((lastAckMs - cutAt) / INTERVAL_MS) + 2);
  });

  it('GIVEN the primary is fenced and the replica promoted WHEN the record is switched to the replica THEN probeUntilRestored returns the first write through it', async () => {
    const drill = drillActivities(stack);
    const drillId = `it-probe-${randomUUID()}`;
    await drill.injectFailure({ database: { name: 'ehr', target }, action: 'fence-primary' });
    await promoteReplica();
    await pointRecordAt(stack, RECORD, stack.postgres.primaryHost);
    try {
      const probing = drill.probeUntilRestored({
        probe: {
          type: 'sql',
          connection: 'ehr-app',
          via: { zone: { name: stack.aws.route53.zoneName }, record: RECORD },
          write: true,
        },
        drillId,
        intervalMs: 200,
        maxWaitMs: 30_000,
      });
      await wait(1000);
      const switchedAt = Date.now();
      await pointRecordAt(stack, RECORD, stack.postgres.replicaHost);
      const restored = await probing;

      expect(restored.host).toBe(`${stack.postgres.replicaHost}:${stack.postgres.port}`);
      expect(restored.attempts).toBeGreaterThanOrEqual(3);
      expect(Date.parse(restored.restoredAt)).toBeGreaterThanOrEqual(switchedAt);
      expect(Date.parse(restored.restoredAt) - switchedAt).toBeLessThan(1000);
      const rows = await query<{ n: number }>(
        stack.postgres.replicaUrl,
        'select count(*)::int as n from drctl_probe where run_id = $1',
        [drillId],
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await pointRecordAt(stack, RECORD, stack.postgres.primaryHost);
    }
  });
});
