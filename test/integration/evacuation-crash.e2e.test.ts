import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { FENCE_SECURITY_GROUP } from '../../sandbox/rds-seed';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { strictAwsControl, type StrictStats } from '../../sandbox/strict-aws-client';
import { catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { evacuationStatus } from './evacuation-fixtures';

/**
 * An evacuation whose worker dies at the worst moments, under the account's RDS limit: SIGKILLed before its first
 * fence, in the middle of its fences (some primaries rebooted, the others waiting for RDS tokens) and in the middle
 * of its DNS switches. A new worker replays every run (none of its workflow tasks may fail) and finishes the
 * evacuation. Every service succeeds and each effect happens once, counted at the strict AWS layer: one
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

const PRIMARY_REGION = 'us-east-1';
const REPLICA_REGION = 'us-west-2';
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

interface Service {
  id: string;
  zoneId: string;
  zoneName: string;
  record: string;
  databases: Array<{ name: string; primary: string; replica: string }>;
}

/** Primaries in us-east-1 with read replicas in us-west-2, and a zone per service, made behind the layer. */
async function seedServices(tag: string): Promise<Service[]> {
  const raw = createSandboxAwsClients(stack.moto.rawEndpoint);
  const services: Service[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const id = `${tag}-svc${s}`;
    const zoneName = `${id}.crash.drctl.internal.`;
    const zone = await raw.route53.send(
      new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${id}-${Date.now()}` }),
    );
    const record = `db.${zoneName}`;
    await raw.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone?.Id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: record,
                Type: 'CNAME',
                TTL: 30,
                ResourceRecords: [{ Value: `${id}-d0-primary.${PRIMARY_REGION}.example.` }],
              },
            },
          ],
        },
      }),
    );
    const databases = Array.from({ length: DATABASES_PER_SERVICE }, (_, d) => ({
      name: `d${d}`,
      primary: `${id}-d${d}-primary`,
      replica: `${id}-d${d}-replica`,
    }));
    for (const db of databases) {
      const created = await raw.rds(PRIMARY_REGION).send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: db.primary,
          Engine: 'postgres',
          EngineVersion: '15.4',
          DBInstanceClass: 'db.t3.micro',
          AllocatedStorage: 20,
          MasterUsername: 'crash',
          MasterUserPassword: 'sandbox-not-a-secret',
          BackupRetentionPeriod: 7,
        }),
      );
      await raw.rds(REPLICA_REGION).send(
        new CreateDBInstanceReadReplicaCommand({
          DBInstanceIdentifier: db.replica,
          SourceDBInstanceIdentifier: created.DBInstance?.DBInstanceArn,
          DBInstanceClass: 'db.t3.micro',
        }),
      );
    }
    services.push({ id, zoneId: zone.HostedZone?.Id ?? '', zoneName, record, databases });
  }
  return services;
}

/** A runbook per service (fence every primary, promote every replica, move its record), and one evacuation. */
function writeEvacuation(tag: string, services: Service[]): string {
  for (const service of services) {
    const parallel = (id: string, kind: string) => ({
      id,
      kind: 'parallel',
      steps: service.databases.map((db) => ({ id: `${id}-${db.name}`, kind, database: db.name })),
    });
    const runbook = {
      id: service.id,
      title: `${service.id}: leave ${PRIMARY_REGION}`,
      owner: 'tests',
      objectives: { rto: '30m', rpo: '5m' },
      targets: {
        databases: Object.fromEntries(
          service.databases.map((db) => [
            db.name,
            {
              provider: 'rds-instance',
              primary: { instanceId: db.primary, region: PRIMARY_REGION },
              replica: { instanceId: db.replica, region: REPLICA_REGION },
              fence: 'security-groups',
              fenceSecurityGroup: FENCE_SECURITY_GROUP,
            },
          ]),
        ),
      },
      steps: [
        { id: 'preflight', kind: 'preflight' },
        parallel('fence', 'database.fence'),
        parallel('promote', 'database.promote'),
        {
          id: 'switch-dns',
          kind: 'dns.switch',
          zone: { name: service.zoneName },
          records: [
            { name: service.record, type: 'CNAME', ttl: 30, pointTo: { database: 'd0', member: 'replica' } },
          ],
        },
      ],
    };
    writeFileSync(join(catalogDir(env), `${service.id}.json`), JSON.stringify(runbook));
  }
  const id = `${tag}-evacuation`;
  writeFileSync(
    join(evacuationsDir, `${id}.json`),
    JSON.stringify({
      id,
      title: id,
      waves: [{ id: 'everything', runbooks: services.map((s) => s.id), concurrency: SERVICES }],
    }),
  );
  return id;
}

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

/** Where the worker dies: the first moment `reached` sees in the layer's counts of effects and calls. */
const KILL_POINTS: Array<{
  moment: string;
  reached: (stats: StrictStats) => boolean;
  notDone: string;
}> = [
  {
    // Released (or about to be) with its pre-flight read while held; nothing changed yet.
    moment: 'before the first fence',
    reached: (stats) => (stats.operations.DescribeDBInstances?.calls ?? 0) > 0,
    notDone: 'RebootDBInstance',
  },
  {
    // A few primaries rebooted, most still waiting for the account's tokens.
    moment: 'mid-fence',
    reached: (stats) => (stats.effects.RebootDBInstance ?? 0) >= 3,
    notDone: 'RebootDBInstance',
  },
  {
    // One service's records moved, the others' not yet.
    moment: 'mid-switch',
    reached: (stats) => (stats.effects.ChangeResourceRecordSets ?? 0) >= 1,
    notDone: 'ChangeResourceRecordSets',
  },
];

test.each(KILL_POINTS)(
  'a worker SIGKILLed $moment under the RDS limit: a new worker finishes every service, each effect once',
  async ({ reached, notDone }) => {
    const control = strictAwsControl(stack.moto.controlUrl);
    const tag = `crash${Date.now().toString(36)}`;
    const services = await seedServices(tag);
    const evacuationId = writeEvacuation(tag, services);
    await control.reset();
    for (const db of services.flatMap((s) => s.databases)) {
      await control.setLag({ metricName: 'ReplicaLag', resourceId: db.replica, region: REPLICA_REGION }, 0);
    }
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
    await stopProcess(worker, 'SIGKILL');
    const atKill = (await control.stats()).effects;
    const expected: Effects = {
      ModifyDBInstance: DATABASES,
      RebootDBInstance: DATABASES,
      PromoteReadReplica: DATABASES,
      ChangeResourceRecordSets: SERVICES,
    };
    expect(atKill[notDone] ?? 0).toBeLessThan(expected[notDone] ?? 0);
    worker = await startWorkerProcess(env);
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
    const raw = createSandboxAwsClients(stack.moto.rawEndpoint);
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
        new ListResourceRecordSetsCommand({ HostedZoneId: service.zoneId, StartRecordName: service.record }),
      );
      const record = sets.ResourceRecordSets?.find((set) => set.Name === service.record);
      expect(record?.ResourceRecords?.map((r) => r.Value)).toEqual([promoted?.Endpoint?.Address]);
    }
    process.stdout.write(`killed at ${JSON.stringify(atKill)}; effects ${JSON.stringify(stats.effects)}\n`);
  },
);
