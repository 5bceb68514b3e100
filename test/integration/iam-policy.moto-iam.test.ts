import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { existsSync } from 'node:fs';
import type { DatabaseInput } from '../../activities/contracts';
import { createLagMetricsAdapter } from '../../activities/database/lag-metrics-adapter';
import type { LagMetricsPort } from '../../activities/database/lag-metrics-port';
import { createPostgresAdapter } from '../../activities/database/postgres-adapter';
import { createRdsAdapter } from '../../activities/database/rds-adapter';
import type { RdsInstance, RdsPort } from '../../activities/database/rds-port';
import { createRoute53Adapter } from '../../activities/dns/route53-adapter';
import { createFenceActivities } from '../../kinds/database-fence/activities';
import { createPromoteActivities } from '../../kinds/database-promote/activities';
import { createDnsActivities } from '../../kinds/dns-switch/activities';
import patientPortal from '../../runbooks/examples/patient-portal-rds';
import { isAlive, startDetached, stopDetached } from '../../sandbox/detached-process';
import { findFreePort } from '../../sandbox/free-port';
import { seedFenceSecurityGroup, seedRds, RDS_REPLICA } from '../../sandbox/rds-seed';
import { seedRoute53, PORTAL_DB_RECORD, ZONE_NAME } from '../../sandbox/route53-seed';
import { sandboxPaths } from '../../sandbox/sandbox-paths';
import { LOOPBACK } from '../../sandbox/sandbox-settings';
import { motoServerArgs } from '../../sandbox/moto-server';
import { waitUntil } from '../../sandbox/wait-until';
import { composeIamPolicy, type IamPolicyDocument } from '../../security/iam/compose-policy';

/**
 * The policy `drctl iam-policy patient-portal-rds` prints, enforced by moto's IAM (INITIAL_NO_AUTH_ACTION_COUNT):
 * a worker holding only that policy runs the runbook's RDS and Route 53 activities to the end, and without any one
 * of the actions its forward path calls, the step that calls it fails with AccessDenied naming the action.
 *
 * A moto server of its own (a free loopback port, its own process): the shared sandbox moto stays open to every
 * other test, and enforcing IAM there would refuse them all.
 *
 * What moto 5.2.1 cannot check, so the policy is handed to it with `Resource: "*"` and no `Condition`:
 * - resource ARNs: moto authorises every non-S3 request against the resource "*" (moto/core/authorization.py,
 *   `_authenticate_and_authorize_normal_action(resource="*")`), and matches a statement's Resource against that
 *   string, so a statement naming `arn:aws:rds:…:db:patient-portal-replica` never matches there;
 * - conditions: moto fills condition keys only from the request's parameters, never Route 53's
 *   `route53:ChangeResourceRecordSets*` keys, so the DNS statement's Condition would deny every change.
 * - CloudWatch's action prefix: moto takes an action's service prefix from the request's SigV4 credential scope
 *   (moto/iam/access_control.py, `IAMRequest.__init__`), and CloudWatch signs as `monitoring`; AWS IAM names the
 *   action `cloudwatch:GetMetricData`. The test hands moto `monitoring:` for `cloudwatch:`.
 * The ARNs and conditions are checked against AWS's documented formats by test/unit/iam-policy.test.ts; this test
 * proves the action lists: complete, and each listed forward-path action needed by its step.
 */

const MOTO_PROCESS = 'moto-iam-test';
const ADMIN = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const WORKER_USER = 'drctl-worker';

/** The printed policy as moto can evaluate it (see above): same statements and actions, any resource, no condition. */
function asMotoEvaluatesIt(policy: IamPolicyDocument, without?: string): IamPolicyDocument {
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((s) => ({
      Sid: s.Sid,
      Effect: s.Effect,
      Action: s.Action.filter((a) => a !== without).map((a) => a.replace(/^cloudwatch:/, 'monitoring:')),
      Resource: ['*'],
    })).filter((s) => s.Action.length > 0),
  };
}

let endpoint = '';
const portalTarget = patientPortal.targets.databases!.portal!;
const portal: DatabaseInput = { name: 'portal', target: portalTarget };
const printed = composeIamPolicy(patientPortal).policy;

async function motoApi(path: string, body?: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(20_000),
  });
  if (!response.ok) throw new Error(`moto ${path} answered HTTP ${response.status}`);
}

const clientOptions = (region: string, credentials: typeof ADMIN) => ({
  region,
  endpoint,
  credentials,
  maxAttempts: 1,
});

/**
 * A fresh estate (RDS primary + replica, fence group, zone and record), seeded while
 * moto authorises nothing, then a worker user holding `policy`; then IAM is enforced from the next request on.
 */
async function freshEstateWithWorker(
  policy: IamPolicyDocument,
): Promise<{ keys: typeof ADMIN; replicaEndpoint: string }> {
  await motoApi('reset-auth', '1000000000');
  await motoApi('reset');
  const rds = (region: string) => new RDSClient(clientOptions(region, ADMIN));
  const ec2 = (region: string) => new EC2Client(clientOptions(region, ADMIN));
  const { primaryEndpoint } = await seedRds(rds);
  await seedFenceSecurityGroup(rds, ec2);
  const route53 = new Route53Client(clientOptions('us-east-1', ADMIN));
  await seedRoute53(route53, primaryEndpoint);
  const replica = await rds(RDS_REPLICA.region).send(
    new DescribeDBInstancesCommand({ DBInstanceIdentifier: RDS_REPLICA.instanceId }),
  );
  const iam = new IAMClient(clientOptions('us-east-1', ADMIN));
  await iam.send(new CreateUserCommand({ UserName: WORKER_USER }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: WORKER_USER,
      PolicyName: 'drctl-patient-portal-rds',
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: WORKER_USER }))).AccessKey;
  await motoApi('reset-auth', '0');
  return {
    keys: { accessKeyId: key!.AccessKeyId!, secretAccessKey: key!.SecretAccessKey! },
    replicaEndpoint: replica.DBInstances![0]!.Endpoint!.Address!,
  };
}

/**
 * The real CloudWatch adapter (so GetMetricData is sent, and authorised or refused by moto's IAM), reading a lag
 * of 0 where moto 5.2.1 finds no datapoint: its GetMetricData does not return what PutMetricData stored for the
 * SDK's request (the shared sandbox's strict layer answers these reads itself, and it is not in front of this moto).
 */
function answeringLag(real: LagMetricsPort): LagMetricsPort {
  return {
    latestLag: async (query) =>
      (await real.latestLag(query)) ?? {
        lagMs: 0,
        at: new Date(),
        source: `${query.metricName} of ${query.resourceId} in ${query.region} (moto: no datapoint)`,
      },
  };
}

/**
 * RDS drops `ReadReplicaSourceDBInstanceIdentifier` once a promotion completes ("the read replica becomes a
 * standalone DB instance": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html);
 * moto keeps it. The shared sandbox's strict layer shows promotions as RDS does, but it is not in front of this
 * moto (its own reads would be refused under IAM enforcement), so the real adapter's reads are given the same
 * view here. Every call still goes to moto with the worker's keys.
 */
function asRdsShowsPromotions(rds: RdsPort): RdsPort {
  const promoted = new Set<string>();
  const view = (instance: RdsInstance | null): RdsInstance | null =>
    instance !== null && promoted.has(instance.instanceId) ? { ...instance, replicaOf: null } : instance;
  return {
    ...rds,
    describeInstance: async (region, instanceId) => view(await rds.describeInstance(region, instanceId)),
    promoteReadReplica: async (region, instanceId) => {
      await rds.promoteReadReplica(region, instanceId);
      promoted.add(instanceId);
    },
  };
}

interface RunResult {
  completed: string[];
  failed?: { step: string; type?: string; message: string };
  portalRecord?: string;
}

/** The AWS steps of patient-portal-rds, in its order, as the worker runs them, with the worker's keys. */
async function runPortalAsWorker(keys: typeof ADMIN, replicaEndpoint: string): Promise<RunResult> {
  const rdsAdapter = asRdsShowsPromotions(
    createRdsAdapter(
      (region) => new RDSClient(clientOptions(region, keys)),
      (region) => new EC2Client(clientOptions(region, keys)),
    ),
  );
  const database = {
    postgres: createPostgresAdapter({ connections: {} }),
    rds: rdsAdapter,
    lagMetrics: answeringLag(
      createLagMetricsAdapter((region) => new CloudWatchClient(clientOptions(region, keys))),
    ),
    poll: { initialIntervalMs: 50, maxIntervalMs: 500 },
  };
  const fence = createFenceActivities(database);
  const promote = createPromoteActivities(database);
  const dns = createDnsActivities({
    route53: createRoute53Adapter(new Route53Client(clientOptions('us-east-1', keys))),
    poll: { initialIntervalMs: 50, maxIntervalMs: 500 },
  });
  const zone = { name: ZONE_NAME };
  const record = { name: PORTAL_DB_RECORD, type: 'CNAME' as const };
  const steps: Array<[string, () => Promise<unknown>]> = [
    [
      'preflight',
      async () => {
        const checks = [
          ...(await fence.checkDatabase(portal)),
          ...(await dns.checkDnsRecords({ zone, records: [record] })),
        ];
        const failed = checks.filter((c) => !c.ok);
        if (failed.length > 0) throw new Error(failed.map((c) => `${c.check}: ${c.message}`).join('; '));
      },
    ],
    ['fence-primary', () => fence.fenceDatabase(portal)],
    ['promote-replica', () => promote.promoteDatabase(portal)],
    [
      'switch-dns',
      async () => {
        // As the workflow does: the records read ahead, then swapped from exactly that state.
        const readAhead = await dns.readDnsRecords({ zone, records: [record] });
        return dns.switchDns({
          zone,
          records: [{ ...record, ttl: 30, value: replicaEndpoint }],
          checkResolution: true,
          expectedBefore: readAhead,
        });
      },
    ],
  ];
  const completed: string[] = [];
  for (const [step, run] of steps) {
    try {
      await run();
      completed.push(step);
    } catch (error) {
      const failure = error as { type?: string; message: string };
      return {
        completed,
        failed: { step, ...(failure.type ? { type: failure.type } : {}), message: failure.message },
      };
    }
  }
  const [state] = await dns.readDnsRecords({ zone, records: [record] });
  return { completed, ...(state?.values[0] ? { portalRecord: state.values[0] } : {}) };
}

beforeAll(async () => {
  if (!existsSync(sandboxPaths.motoBinary))
    throw new Error(`no moto_server at ${sandboxPaths.motoBinary}: run npm run setup`);
  const port = await findFreePort();
  endpoint = `http://${LOOPBACK}:${port}`;
  const pid = startDetached(MOTO_PROCESS, sandboxPaths.motoPython, motoServerArgs(port), {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '1000000000' },
  });
  await waitUntil(
    `moto (IAM enforced) at ${endpoint}`,
    async () => (await fetch(`${endpoint}/moto-api/`).catch(() => undefined))?.ok === true,
    { timeoutMs: 60_000, hint: `See ${sandboxPaths.logFile(MOTO_PROCESS)}.`, stillAlive: () => isAlive(pid) },
  );
});

afterAll(async () => {
  await stopDetached(MOTO_PROCESS);
});

describe('drctl iam-policy patient-portal-rds under IAM enforcement (a moto of its own)', () => {
  it('GIVEN a worker holding only the printed policy WHEN it runs the runbook’s AWS steps THEN every step completes and the record names the promoted replica', async () => {
    const { keys, replicaEndpoint } = await freshEstateWithWorker(asMotoEvaluatesIt(printed));

    const result = await runPortalAsWorker(keys, replicaEndpoint);

    expect(result.failed).toBeUndefined();
    expect(result.completed).toEqual(['preflight', 'fence-primary', 'promote-replica', 'switch-dns']);
    expect(result.portalRecord).toBe(replicaEndpoint);
  });

  it('GIVEN a worker without any action of the steps at all WHEN it runs THEN the very first call is refused', async () => {
    const { keys, replicaEndpoint } = await freshEstateWithWorker({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Nothing', Effect: 'Allow', Action: ['sqs:ListQueues'], Resource: ['*'] }],
    });

    const result = await runPortalAsWorker(keys, replicaEndpoint);

    expect(result.failed).toMatchObject({ step: 'preflight' });
    expect(result.failed?.message).toMatch(/not authorized|AccessDenied/);
  });

  /**
   * Each action the forward path calls, the step that calls it, and how the failure names it. moto's refusals of
   * query-protocol calls (RDS, EC2) reach drctl's message with the IAM action; its refusals of Route 53 (REST-XML)
   * and CloudWatch (JSON) come in a body the SDK cannot parse, so there drctl names the Route 53 operation and
   * the CloudWatch case only shows the step fails (AWS answers both parseably, naming the action). Not listed:
   * route53:GetChange (moto answers INSYNC at once, so it is never polled), route53:TestDNSAnswer (a refusal only
   * skips that confirmation), rds:AddTagsToResource (a fence tags the primary only without a record of its
   * groups in the run: the follow-up, or groups changed since the plan), rds:RemoveTagsFromResource (undo only).
   */
  it.each([
    ['rds:PromoteReadReplica', 'promote-replica', /rds:PromoteReadReplica/, 'AccessDenied'],
    ['rds:ModifyDBInstance', 'fence-primary', /rds:ModifyDBInstance/, 'AccessDenied'],
    ['rds:RebootDBInstance', 'fence-primary', /rds:RebootDBInstance/, 'AccessDenied'],
    ['ec2:DescribeSecurityGroups', 'preflight', /ec2:DescribeSecurityGroups/, 'AccessDenied'],
    ['rds:DescribeDBInstances', 'preflight', /rds:DescribeDBInstances/, 'AccessDenied'],
    ['cloudwatch:GetMetricData', 'preflight', /./, undefined],
    [
      'route53:ListHostedZonesByName',
      'preflight',
      /Route 53 ListHostedZonesByName .*refused/,
      'AccessDenied',
    ],
    [
      'route53:ListResourceRecordSets',
      'preflight',
      /Route 53 ListResourceRecordSets .*refused/,
      'AccessDenied',
    ],
    [
      'route53:ChangeResourceRecordSets',
      'switch-dns',
      /Route 53 ChangeResourceRecordSets .*refused/,
      'AccessDenied',
    ],
  ])(
    'GIVEN the printed policy without %s WHEN the worker runs THEN %s fails, refused',
    async (action, step, names, type) => {
      const { keys, replicaEndpoint } = await freshEstateWithWorker(asMotoEvaluatesIt(printed, action));

      const result = await runPortalAsWorker(keys, replicaEndpoint);

      expect(result.failed?.step).toBe(step);
      expect(result.failed?.message).toMatch(names);
      // Pre-flight reports refused reads as failed checks (their messages carry the refusal), not as a failure type.
      if (type !== undefined && step !== 'preflight') expect(result.failed?.type).toBe(type);
      expect(result.completed).toEqual(
        ['preflight', 'fence-primary', 'promote-replica', 'switch-dns'].slice(
          0,
          ['preflight', 'fence-primary', 'promote-replica', 'switch-dns'].indexOf(step),
        ),
      );
    },
  );
});
