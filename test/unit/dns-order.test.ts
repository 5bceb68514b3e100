import { recordsToWrite } from '../../kinds/dns-switch/definition';
import { defineRunbook } from '../../runbooks/define-runbook';
import type { StepOf } from '../../runbooks/schema';

const runbook = defineRunbook({
  id: 'dns-order',
  title: 'DNS order',
  owner: 'tests',
  objectives: { rto: '5m', rpo: '1m' },
  targets: {
    databases: {
      main: {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
        applicationRoles: ['app'],
      },
      portal: {
        provider: 'rds-instance',
        primary: { instanceId: 'portal-primary', region: 'us-east-1' },
        replica: { instanceId: 'portal-replica', region: 'us-west-2' },
        fenceSecurityGroup: 'drctl-fence-deny-all',
      },
    },
  },
  steps: [{ id: 'wait', kind: 'wait', duration: '1s' }],
});

const common = {
  id: 'dns',
  kind: 'dns.switch' as const,
  zone: { name: 'z.' },
  checkResolution: true,
  timeout: '5m',
  onFailure: 'abort' as const,
  retry: { maximumAttempts: 1, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1s' },
};

const step: StepOf<'dns.switch'> = {
  ...common,
  records: [
    { name: 'db.z.', type: 'A', ttl: 30, pointTo: { database: 'main', member: 'replica' } },
    { name: 'static.z.', type: 'CNAME', ttl: 60, value: 'elsewhere.example.' },
  ],
};

const literal = (value: string, type: 'A' | 'CNAME' = 'A'): StepOf<'dns.switch'> => ({
  ...common,
  records: [{ name: 'db.z.', type, ttl: 30, value }],
});

test('records pointing at a database take the endpoint its promotion confirmed writable', () => {
  expect(recordsToWrite(step, runbook, new Map([['main', '10.0.0.3']]))).toEqual([
    { name: 'db.z.', type: 'A', ttl: 30, value: '10.0.0.3' },
    { name: 'static.z.', type: 'CNAME', ttl: 60, value: 'elsewhere.example.' },
  ]);
});

test('without a confirmed promotion the switch is refused, naming the database', () => {
  expect(() => recordsToWrite(step, runbook, new Map())).toThrow(
    /refusing to point db\.z\. at database "main"/,
  );
});

test('a literal value that is a member address counts as pointing at that member', () => {
  // GIVEN the replica's address written as a literal, with no promotion confirmed (a parallel group, say)
  expect(() => recordsToWrite(literal('10.0.0.3'), runbook, new Map())).toThrow(
    /10\.0\.0\.3: it is the address of database "main" \(replica\.endpoint\), which has not been confirmed writable/,
  );
  // AND the old primary's address, even after the replica was confirmed
  expect(() => recordsToWrite(literal('10.0.0.2'), runbook, new Map([['main', '10.0.0.3']]))).toThrow(
    /the member confirmed writable in this run is 10\.0\.0\.3/,
  );
  // AND an RDS endpoint, named by its instance id
  expect(() =>
    recordsToWrite(
      literal('portal-replica.abc123.us-west-2.rds.amazonaws.com.', 'CNAME'),
      runbook,
      new Map(),
    ),
  ).toThrow(/database "portal" \(replica\.instanceId\)/);
  // THEN the confirmed member itself may be written literally
  expect(recordsToWrite(literal('10.0.0.3'), runbook, new Map([['main', '10.0.0.3']]))).toEqual([
    { name: 'db.z.', type: 'A', ttl: 30, value: '10.0.0.3' },
  ]);
});

test('a record of several literal values writes them all, and each is checked as a member address would be', () => {
  const several = (values: string[]): StepOf<'dns.switch'> => ({
    ...common,
    records: [{ name: 'web.z.', type: 'A', ttl: 120, values }],
  });

  expect(recordsToWrite(several(['10.10.0.1', '10.10.0.2']), runbook, new Map())).toEqual([
    { name: 'web.z.', type: 'A', ttl: 120, value: '10.10.0.1', values: ['10.10.0.1', '10.10.0.2'] },
  ]);
  // The old primary's address among them is refused, as it is alone.
  expect(() =>
    recordsToWrite(several(['10.10.0.1', '10.0.0.2']), runbook, new Map([['main', '10.0.0.3']])),
  ).toThrow(/refusing to point web\.z\. at 10\.0\.0\.2/);
});
