import type { DatabaseInput } from '../../activities/contracts';

/** The database targets the unit tests stage their fakes around, and the pacing that keeps waits short. */
export const fastPoll = { initialIntervalMs: 2, maxIntervalMs: 5 };

export const ehr: DatabaseInput = {
  name: 'ehr',
  target: {
    provider: 'postgres',
    primary: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
    replica: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
    applicationRoles: ['ehr_app'],
    maxLag: '30s',
  },
};

export const portal: DatabaseInput = {
  name: 'portal',
  target: {
    provider: 'rds-instance',
    primary: { instanceId: 'patient-portal-primary', region: 'us-east-1' },
    replica: { instanceId: 'patient-portal-replica', region: 'us-west-2' },
    maxLag: '30s',
    fence: 'security-groups',
    fenceSecurityGroup: 'drctl-fence-deny-all',
    acceptUnknownLag: false,
  },
};

export const aurora: DatabaseInput = {
  name: 'billing',
  target: {
    provider: 'aurora-cluster',
    clusterId: 'billing',
    region: 'us-east-1',
    targetInstanceId: 'billing-2',
    maxLag: '30s',
    acceptUnknownLag: false,
  },
};
