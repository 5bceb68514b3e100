import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import patientPortalRds from '../../runbooks/examples/patient-portal-rds';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import type { FailoverProgress, FailoverResult } from '../../workflows/run-types';
import { asOperator, catalogDir, drctl, drctlEnv, startWorkerProcess, stopProcess } from './drctl-process';
import { recordValue } from './estate-readers';

/**
 * A failover while every AWS call to the primary's Region fails (the strict AWS layer takes us-east-1 down; Route
 * 53's control plane stays up, as AWS documents it is not part of a Region). The unplanned runbook must complete
 * with what us-west-2 can do, and say what it could not do: the fence of the old primary, on record.
 */
const RUNBOOK_ID = `patient-portal-rds-region-down-${randomUUID().slice(0, 8)}`;
const RECORD = 'portal-db.sandbox.drctl.internal.';
let stack: StackInfo;
let env: NodeJS.ProcessEnv;
let worker: ChildProcess | undefined;

/**
 * The worker runs in the surviving Region, as it would in an outage: its `aws.region` is us-west-2, where its
 * connection secrets are replicated (Secrets Manager replication; here copied before the outage).
 */
async function replicateSecrets(to: string): Promise<void> {
  const common = { endpoint: stack.moto.endpoint, credentials: MOTO_CREDENTIALS };
  const source = new SecretsManagerClient({ ...common, region: 'us-east-1' });
  const target = new SecretsManagerClient({ ...common, region: to });
  for (const secret of (await source.send(new ListSecretsCommand({}))).SecretList ?? []) {
    const value = await source.send(new GetSecretValueCommand({ SecretId: secret.ARN }));
    await target
      .send(new CreateSecretCommand({ Name: secret.Name, SecretString: value.SecretString }))
      .catch((error: { name?: string }) => {
        if (error.name !== 'ResourceExistsException') throw error;
      });
  }
  source.destroy();
  target.destroy();
}

beforeAll(async () => {
  stack = await resetStack();
  await replicateSecrets('us-west-2');
  const config = JSON.parse(readFileSync(stack.configFile, 'utf8')) as { aws: { region: string } };
  config.aws.region = 'us-west-2';
  env = drctlEnv(stack, `region-down-${randomUUID()}`);
  env.DRCTL_CONFIG = join(catalogDir(env), '..', `region-down-${randomUUID()}.config.json`);
  writeFileSync(env.DRCTL_CONFIG, JSON.stringify(config));
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await strictAwsControl(stack.moto.controlUrl).regionUp('us-east-1');
  await stopProcess(worker);
  await resetStack();
});

async function status(workflowId: string): Promise<FailoverProgress> {
  const shown = await drctl(['status', workflowId, '--output', 'json'], env);
  expect(shown.stderr).toBe('');
  return JSON.parse(shown.stdout) as FailoverProgress;
}

function describeRun(run: FailoverProgress): string {
  return run.timeline
    .map((entry) => {
      const failed = (entry.checks ?? []).filter((check) => !check.ok).map((check) => check.message);
      const why = entry.error ? ` ${entry.error.type}: ${entry.error.message}` : '';
      return `${entry.stepId}:${entry.status}${why}${failed.length ? ` [${failed.join('; ')}]` : ''}`;
    })
    .join(', ');
}

async function waitForApproval(workflowId: string): Promise<FailoverProgress> {
  for (;;) {
    const now = await status(workflowId);
    if (now.awaiting.some((a) => a.stepId === 'fence-primary')) return now;
    expect(`${now.status} ${describeRun(now)}`).toMatch(/^(running|paused) /);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

test('with us-east-1 down, the unplanned patient-portal runbook promotes the us-west-2 replica, moves DNS, and records the fence it could not do', async () => {
  const file = join(catalogDir(env), `${RUNBOOK_ID}.json`);
  writeFileSync(file, JSON.stringify({ ...patientPortalRds, id: RUNBOOK_ID, mode: 'unplanned' }));
  const rds = new RDSClient({
    endpoint: stack.moto.endpoint,
    credentials: MOTO_CREDENTIALS,
    region: 'us-west-2',
  });
  const replicaBefore = (
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: stack.aws.rds.replica.instanceId }))
  ).DBInstances?.[0];
  expect(replicaBefore?.ReadReplicaSourceDBInstanceIdentifier).toBeDefined();
  await strictAwsControl(stack.moto.controlUrl).regionDown('us-east-1');

  const started = await drctl(
    ['failover', file, '--reason', 'us-east-1 outage', '--yes', '--output', 'json'],
    env,
  );
  expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };

  const waiting = await waitForApproval(workflowId);
  expect(JSON.stringify(waiting.awaiting)).toMatch(
    /unreachable \(its region does not answer\) and could not be fenced/,
  );
  // Going on unfenced needs two different verified operators.
  for (const operator of ['bob', 'carol'] as const) {
    const approved = await drctl(
      ['approve', workflowId, '--reason', 'us-east-1 is down (AWS Health); primary cannot take writes'],
      asOperator(env, operator),
    );
    expect({ operator, code: approved.code, stderr: approved.stderr }).toEqual({
      operator,
      code: 0,
      stderr: '',
    });
  }
  const followed = await drctl(['status', workflowId, '--follow', '--output', 'json'], env);
  const result = JSON.parse(followed.stdout) as FailoverResult;

  expect(`${result.status} (${describeRun(result)})`).toMatch(/^succeeded /);
  const fence = result.timeline.find((entry) => entry.stepId === 'fence-primary');
  expect(fence?.summary).toMatch(/could not fence patient-portal-primary: .*region us-east-1 unreachable/);
  expect(fence?.summary).toMatch(/proceeding unfenced, approved by bob and carol/);
  const preflight = result.timeline.find((entry) => entry.stepId === 'preflight');
  expect(JSON.stringify(preflight?.checks)).toMatch(/us-east-1/);
  const replicaAfter = (
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: stack.aws.rds.replica.instanceId }))
  ).DBInstances?.[0];
  expect(replicaAfter?.ReadReplicaSourceDBInstanceIdentifier).toBeUndefined();
  expect(await recordValue(stack, RECORD)).toBe(replicaAfter?.Endpoint?.Address);
  rds.destroy();
});
