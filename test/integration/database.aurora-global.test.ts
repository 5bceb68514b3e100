import { DescribeGlobalClustersCommand } from '@aws-sdk/client-rds';
import type { DatabaseInput } from '../../activities/contracts';
import { resetStack } from '../../sandbox/stack';
import { strictAwsControl } from '../../sandbox/strict-aws-client';
import { realDatabaseFixture } from './database-fixture';
import { getStack } from './stack';

/**
 * The aurora-global provider against the seeded Aurora global database `ehr-global` through the strict AWS layer
 * (which emulates SwitchoverGlobalCluster and FailoverGlobalCluster from AWS's API reference).
 */
const stack = getStack();
const { activities, rdsClient, close } = realDatabaseFixture(stack);
const aws = strictAwsControl(stack.moto.controlUrl);
const { aurora } = stack.aws;

function ehrGlobal(mode: 'planned' | 'unplanned'): DatabaseInput {
  return {
    name: 'ehr',
    mode,
    target: {
      provider: 'aurora-global',
      globalClusterId: aurora.globalClusterId,
      primary: { clusterId: aurora.primary.clusterId, region: aurora.primary.region },
      secondary: { clusterId: aurora.secondary.clusterId, region: aurora.secondary.region },
      maxLag: '30s',
      acceptUnknownLag: false,
    },
  };
}

async function writerArn(): Promise<string | undefined> {
  const out = await rdsClient(aurora.secondary.region).send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: aurora.globalClusterId }),
  );
  return out.GlobalClusters?.[0]?.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;
}

let seededSecondaryEndpoint: string;

beforeEach(async () => {
  seededSecondaryEndpoint = (await resetStack({ only: ['aws'] })).aws.aurora.secondary.endpoint;
});

afterAll(async () => {
  await aws.regionUp(aurora.primary.region);
  close();
  await resetStack({ only: ['aws'] });
});

describe('aurora-global on the strict AWS layer', () => {
  it('GIVEN a planned run WHEN checking and promoting THEN every check passes and SwitchoverGlobalCluster makes the us-west-2 cluster the writer', async () => {
    expect(await writerArn()).toBe(aurora.primary.arn);

    const checks = await activities.checkDatabase(ehrGlobal('planned'));
    const outcome = await activities.promoteDatabase(ehrGlobal('planned'));

    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(outcome).toMatchObject({ changed: true, facts: { operation: 'SwitchoverGlobalCluster' } });
    expect(await writerArn()).toBe(aurora.secondary.arn);
    expect(outcome.writableEndpoint).toBe(seededSecondaryEndpoint);
  });

  it('GIVEN us-east-1 down WHEN an unplanned run promotes THEN FailoverGlobalCluster with AllowDataLoss makes the us-west-2 cluster the writer, gated on AuroraGlobalDBRPOLag', async () => {
    await aws.regionDown(aurora.primary.region);

    const planned = await activities.promoteDatabase(ehrGlobal('planned')).catch((error: unknown) => error);
    const outcome = await activities.promoteDatabase(ehrGlobal('unplanned'));
    await aws.regionUp(aurora.primary.region);

    expect(planned).toMatchObject({ type: 'PrimaryUnreachable', nonRetryable: true });
    expect(outcome).toMatchObject({ changed: true, facts: { operation: 'FailoverGlobalCluster' } });
    expect(outcome.facts.replicationLagMs).toEqual(expect.any(Number));
    expect(await writerArn()).toBe(aurora.secondary.arn);
  });
});
