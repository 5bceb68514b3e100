import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import {
  ESTATE_PRIMARY_REGION as PRIMARY_REGION,
  ESTATE_REPLICA_REGION as REPLICA_REGION,
  publishReplicaLag,
  seedEstate,
  writeEstateEvacuation,
} from '../../sandbox/rds-estate';
import { resetStack, restartTemporal } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { strictAwsControl, type StrictStats } from '../../sandbox/strict-aws-client';
import { catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { evacuationStatus } from './evacuation-fixtures';

/**
 * An evacuation whose worker dies at the worst moments, under the account's RDS limit: SIGKILLed before its first
 * fence, in the middle of its fences (some primaries rebooted, the others waiting for RDS tokens) and in the middle
 * of its DNS switches. A new worker replays every run (none of its workflow tasks may fail) and finishes the
 * evacuation. And one whose Temporal server is SIGKILLed in the middle of its fences and started again. Every service succeeds and each effect happens once, counted at the strict AWS layer: one
 * security-group swap, one reboot and one promotion per database, one DNS change per service (a switch killed
 * between its change and the heartbeat that kept the change's id sends it again, to learn when it is INSYNC); the
 * estate ends as the runbooks say.
 *
 * A reboot lasts REBOOT_MS here, longer than the heartbeat timeout after which a dead worker's fence is retried,
 * as an RDS reboot (the engine's crash recovery) does: a fence killed after its reboot, before a heartbeat said
 * so, finds the instance still rebooting and sends no other.
 */
jest.setTimeout(300_000);

let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;
let evacuationsDir: string;

const SERVICES = 4;
const DATABASES_PER_SERVICE = 3;
const DATABASES = SERVICES * DATABASES_PER_SERVICE;
/** The account's RDS limit at the layer and in the worker's pacer: the fences queue for tokens for seconds. */
const RDS_LIMIT = { burst: 10, perSecond: 4 };
const LAYER_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** Longer than HEARTBEAT_TIMEOUT (15 s) and the SDK's heartbeat throttle (2 s), with room for the retry's start. */
const REBOOT_MS = 25_000;

beforeAll(async () => {
  stack = await resetStack();
  env = drctlEnv(stack, `evacuation-crash-${randomUUID()}`);
  evacuationsDir = mkdtempSync(join(tmpdir(), 'drctl-evacuations-'));
  env.DRCTL_EVACUATIONS_DIR = evacuationsDir;
  env.DRCTL_RUNBOOKS_DIR = catalogDir(env);
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { aws: Record<string, unknown> };
  config.aws.pacing = { rds: RDS_LIMIT };
  env.DRCTL_CONFIG = join(mkdtempSync(join(tmpdir(), 'drctl-crash-config-')), 'drctl.config.json');
  writeFileSync(env.DRCTL_CONFIG, JSON.stringify(config));
});

afterAll(async () => {
  await stopProcess(worker);
  await strictAwsControl(stack.moto.controlUrl).reset();
  await resetStack();
});

/**
 * The evacuation's end. A service whose workflow task failed (a new worker that cannot replay its history) would
 * never end: that fails the test at once, with the task's failure.
 */
async function waitForEnd(workflowId: string): Promise<EvacuationProgress> {
  const connection = await Connection.connect({ address: stack.temporal.address });
  const temporal = new Client({ connection, namespace: stack.temporal.namespace });
  try {
    for (;;) {
      const progress = await evacuationStatus(env, workflowId);
      if (progress.status !== 'running') return progress;
      for (const service of progress.services) {
        if (service.workflowId === undefined) continue;
        const history = await temporal.workflow.getHandle(service.workflowId).fetchHistory();
        const failed = history.events?.find((event) => event.workflowTaskFailedEventAttributes);
        if (failed !== undefined) {
          throw new Error(
            `${service.workflowId}: workflow task failed: ${failed.workflowTaskFailedEventAttributes?.failure?.message}`,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await connection.close();
  }
}

type Effects = Record<string, number>;

/** What dies, and when: the first moment `reached` sees in the layer's counts of effects and calls. */
const KILL_POINTS: Array<{
  killed: 'the worker' | 'the Temporal server';
  moment: string;
  reached: (stats: StrictStats) => boolean;
  notDone: string;
}> = [
  {
    // Released (or about to be) with its pre-flight read while held; nothing changed yet.
    killed: 'the worker',
    moment: 'before the first fence',
    reached: (stats) => (stats.operations.DescribeDBInstances?.calls ?? 0) > 0,
    notDone: 'RebootDBInstance',
  },
  {
    // A few primaries rebooted, most still waiting for the account's tokens.
    killed: 'the worker',
    moment: 'mid-fence',
    reached: (stats) => (stats.effects.RebootDBInstance ?? 0) >= 3,
    notDone: 'RebootDBInstance',
  },
  {
    // One service's records moved, the others' not yet.
    killed: 'the worker',
    moment: 'mid-switch',
    reached: (stats) => (stats.effects.ChangeResourceRecordSets ?? 0) >= 1,
    notDone: 'ChangeResourceRecordSets',
  },
  {
    // The server, not the worker: the worker goes on with its activities and reports them once the server (its
    // history in its SQLite file) is back.
    killed: 'the Temporal server',
    moment: 'mid-fence',
    reached: (stats) => (stats.effects.RebootDBInstance ?? 0) >= 3,
    notDone: 'RebootDBInstance',
  },
];

test.each(KILL_POINTS)(
  '$killed SIGKILLed $moment under the RDS limit: the evacuation finishes every service, each effect once',
  async ({ killed, reached, notDone }) => {
    const control = strictAwsControl(stack.moto.controlUrl);
    const tag = `crash${Date.now().toString(36)}`;
    const raw = createSandboxAwsClients(stack.moto.rawEndpoint);
    const services = await seedEstate(raw, {
      tag,
      domain: 'crash.drctl.internal.',
      services: SERVICES,
      databases: () => DATABASES_PER_SERVICE,
      records: (_, zoneName) => [`db.${zoneName}`],
    });
    const evacuationId = writeEstateEvacuation(
      { catalog: catalogDir(env), evacuations: evacuationsDir },
      tag,
      services,
      { owner: 'tests', title: `${tag}: crash test`, concurrency: SERVICES },
    );
    await control.reset();
    await publishReplicaLag(control, services);
    await control.throttling({ enabled: true, rds: RDS_LIMIT });
    await control.update({ rdsRebootMs: REBOOT_MS });
    await control.resetStats();
    // The one worker on the queue: the previous case's would otherwise go on serving after this one's is killed.
    await stopProcess(worker);
    worker = await startWorkerProcess(env);

    const started = await drctl(
      ['evacuate', evacuationId, '--reason', 'INC-9100 crash test', '--yes', '--output', 'json'],
      env,
    );
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };

    while (!reached(await control.stats())) await new Promise((resolve) => setTimeout(resolve, 20));
    let atKill: Effects;
    if (killed === 'the worker') {
      await stopProcess(worker, 'SIGKILL');
      atKill = (await control.stats()).effects;
    } else {
      atKill = (await control.stats()).effects;
      await restartTemporal({ kill: true });
    }
    const expected: Effects = {
      ModifyDBInstance: DATABASES,
      RebootDBInstance: DATABASES,
      PromoteReadReplica: DATABASES,
      ChangeResourceRecordSets: SERVICES,
    };
    expect(atKill[notDone] ?? 0).toBeLessThan(expected[notDone] ?? 0);
    if (killed === 'the worker') worker = await startWorkerProcess(env);
    const ended = await waitForEnd(workflowId);
    expect(
      ended.services.map((s) => `${s.runbookId}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`),
    ).toEqual(services.map((s) => `${s.id}: succeeded`));
    expect(ended.status).toBe('succeeded');

    const stats = await control.stats();
    // A switch whose worker died after sending its change, before a heartbeat kept the change's id, sends its
    // records again at their new values (an UPSERT that changes nothing): Route 53 lists records at once, so only
    // a change id of its own tells it when the records are INSYNC (kinds/dns-switch/activities.ts). At most once
    // for each change sent before the kill, and the one in flight.
    const { ChangeResourceRecordSets: changes = 0, ...others } = stats.effects;
    const { ChangeResourceRecordSets: expectedChanges = 0, ...expectedOthers } = expected;
    const resent = notDone === 'ChangeResourceRecordSets' ? (atKill.ChangeResourceRecordSets ?? 0) + 1 : 0;
    expect(others).toMatchObject(expectedOthers);
    expect(changes).toBeGreaterThanOrEqual(expectedChanges);
    expect(changes).toBeLessThanOrEqual(expectedChanges + resent);
    // Real state, as AWS shows it (through the layer, unthrottled): every primary carries only the deny-all
    // group, every replica is a standalone primary, every service's record names its promoted replica.
    await control.throttling({ enabled: false });
    const described = (region: string) =>
      new RDSClient({ endpoint: stack.moto.endpoint, region, credentials: LAYER_CREDENTIALS })
        .send(new DescribeDBInstancesCommand({}))
        .then((out) => out.DBInstances ?? []);
    const [primaries, replicas] = await Promise.all([described(PRIMARY_REGION), described(REPLICA_REGION)]);
    for (const service of services) {
      for (const db of service.databases) {
        const primary = primaries.find((i) => i.DBInstanceIdentifier === db.primary);
        const replica = replicas.find((i) => i.DBInstanceIdentifier === db.replica);
        expect(primary?.VpcSecurityGroups?.map((g) => g.VpcSecurityGroupId)).toHaveLength(1);
        expect(primary?.DBInstanceStatus).toBe('available');
        expect(replica?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
      }
      const promoted = replicas.find((i) => i.DBInstanceIdentifier === service.databases[0]?.replica);
      const sets = await raw.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: service.zoneId,
          StartRecordName: service.records[0],
        }),
      );
      const record = sets.ResourceRecordSets?.find((set) => set.Name === service.records[0]);
      expect(record?.ResourceRecords?.map((r) => r.Value)).toEqual([promoted?.Endpoint?.Address]);
    }
    process.stdout.write(`killed at ${JSON.stringify(atKill)}; effects ${JSON.stringify(stats.effects)}\n`);
  },
);
