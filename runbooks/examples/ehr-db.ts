import { defineRunbook } from '../define-runbook';

/**
 * The EHR database: self-managed PostgreSQL with a streaming replica. Fails over to the replica, moves the
 * service's DNS name, and puts the application in degraded mode, after checking the immutable backups.
 * Connection names resolve through the worker's configuration (the sandbox writes them for the local stack).
 */
export default defineRunbook({
  id: 'ehr-db',
  title: 'EHR database: fail over to the streaming replica',
  owner: 'platform-oncall',
  description:
    'Self-managed PostgreSQL primary → replica, Route 53 record, Unleash degraded mode, S3 Object Lock backups.',
  objectives: { rto: '15m', rpo: '1m' },
  targets: {
    databases: {
      ehr: {
        provider: 'postgres',
        primary: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
        replica: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
        applicationRoles: ['ehr_app'],
        maxLag: '30s',
      },
    },
  },
  steps: [
    { id: 'preflight', kind: 'preflight', title: 'Read-only checks before any change', timeout: '2m' },
    {
      id: 'prepare',
      kind: 'parallel',
      title: 'Degrade the application and check the backups',
      steps: [
        {
          id: 'degraded-mode-on',
          kind: 'flags.set',
          title: 'Turn on degraded mode and the read-only banner',
          flags: [
            { name: 'ehr-degraded-mode', enabled: true },
            { name: 'ehr-read-only-banner', enabled: true },
          ],
        },
        {
          id: 'verify-backups',
          kind: 'backups.verify',
          title: 'Nightly base backups are fresh, locked and intact',
          bucket: 'drctl-ehr-backups',
          prefix: 'ehr-db/',
          maxAge: '26h',
          // The backup job writes each backup's time; a copy or a re-upload of an old one stays old.
          takenAt: { metadata: 'taken-at' },
          lockMode: 'COMPLIANCE',
          minRetention: '7d',
        },
      ],
    },
    {
      id: 'fence-primary',
      kind: 'database.fence',
      title: 'Stop the old primary taking writes',
      database: 'ehr',
    },
    {
      id: 'promote-replica',
      kind: 'database.promote',
      title: 'Promote the replica',
      database: 'ehr',
      timeout: '3m',
    },
    {
      id: 'switch-dns',
      kind: 'dns.switch',
      title: 'Point ehr-db at the new primary',
      zone: { name: 'sandbox.drctl.internal.' },
      records: [
        {
          name: 'ehr-db.sandbox.drctl.internal.',
          type: 'A',
          ttl: 30,
          pointTo: { database: 'ehr', member: 'replica' },
        },
      ],
    },
    {
      id: 'probe-writes',
      kind: 'probe',
      title: 'A client following DNS can write',
      probe: {
        type: 'sql',
        connection: 'ehr-app',
        via: { zone: { name: 'sandbox.drctl.internal.' }, record: 'ehr-db.sandbox.drctl.internal.' },
        write: true,
      },
    },
  ],
});
