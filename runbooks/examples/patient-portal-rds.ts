import { defineRunbook } from '../define-runbook';

/**
 * The patient portal's RDS PostgreSQL: promote the cross-region read replica, stop the old primary, move the
 * portal's CNAME, and show the maintenance page while it happens.
 */
export default defineRunbook({
  id: 'patient-portal-rds',
  title: 'Patient portal: promote the RDS read replica in us-west-2',
  owner: 'platform-oncall',
  objectives: { rto: '30m', rpo: '5m' },
  targets: {
    databases: {
      portal: {
        provider: 'rds-instance',
        primary: { instanceId: 'patient-portal-primary', region: 'us-east-1' },
        replica: { instanceId: 'patient-portal-replica', region: 'us-west-2' },
        maxLag: '5m',
        fence: 'security-groups',
        fenceSecurityGroup: 'drctl-fence-deny-all',
      },
    },
  },
  steps: [
    { id: 'preflight', kind: 'preflight', timeout: '2m' },
    {
      id: 'maintenance-page-on',
      kind: 'flags.set',
      flags: [{ name: 'portal-maintenance-page', enabled: true }],
    },
    { id: 'fence-primary', kind: 'database.fence', database: 'portal', onFailure: 'pause' },
    { id: 'promote-replica', kind: 'database.promote', database: 'portal', timeout: '20m' },
    {
      id: 'switch-dns',
      kind: 'dns.switch',
      zone: { name: 'sandbox.drctl.internal.' },
      records: [
        {
          name: 'portal-db.sandbox.drctl.internal.',
          type: 'CNAME',
          ttl: 30,
          pointTo: { database: 'portal', member: 'replica' },
        },
      ],
    },
    {
      id: 'maintenance-page-off',
      kind: 'flags.set',
      flags: [{ name: 'portal-maintenance-page', enabled: false }],
    },
  ],
});
