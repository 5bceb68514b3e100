import { dnsRecordKey, recordsBeforeOf } from '../../kinds/dns-switch/definition';
import { defineRunbook } from '../../runbooks/define-runbook';
import { failbackRunbook, FailbackUnsupportedError } from '../../runbooks/failback-runbook';
import ehrDb from '../../runbooks/examples/ehr-db';
import patientPortal from '../../runbooks/examples/patient-portal-rds';

test('the failback of ehr-db promotes the original primary, points DNS back and sets the flags back', () => {
  const back = failbackRunbook(ehrDb, {
    run: 'failover-ehr-db/run-1',
    flagsBefore: new Map([
      ['default/development/ehr-degraded-mode', false],
      ['default/development/ehr-read-only-banner', false],
    ]),
  });
  expect(back.id).toBe('ehr-db-failback');
  expect(back.targets.databases.ehr).toMatchObject({
    primary: { connection: 'ehr-replica', endpoint: '127.0.0.3' },
    replica: { connection: 'ehr-primary', endpoint: '127.0.0.2' },
  });
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  expect(leaves.map((step) => step.kind)).toEqual([
    'preflight',
    'flags.set',
    'database.fence',
    'database.promote',
    'dns.switch',
    'probe',
  ]);
  const flags = leaves.find((step) => step.kind === 'flags.set');
  expect(flags?.kind === 'flags.set' && flags.flags.every((flag) => !flag.enabled)).toBe(true);
  // Before: the failover's title, "Turn on degraded mode and the read-only banner", over an on → off change.
  expect(flags?.title).toBe('Flags back to their values before failover-ehr-db/run-1');
  expect(back.description).toContain('failover-ehr-db/run-1');
});

test('each flag goes back to the value the failover recorded, not the opposite of the step', () => {
  // GIVEN the banner was already on before the failover turned both flags on
  const back = failbackRunbook(ehrDb, {
    flagsBefore: new Map([
      ['default/development/ehr-degraded-mode', false],
      ['default/development/ehr-read-only-banner', true],
    ]),
  });
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  const flags = leaves.find((step) => step.kind === 'flags.set');
  // THEN the banner stays on and degraded mode goes off
  expect(flags?.kind === 'flags.set' && flags.flags).toEqual([
    { name: 'ehr-degraded-mode', enabled: false },
    { name: 'ehr-read-only-banner', enabled: true },
  ]);
});

test('without a recorded failover the failback leaves the flags alone rather than guess', () => {
  const back = failbackRunbook(ehrDb);
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  expect(leaves.some((step) => step.kind === 'flags.set')).toBe(false);
});

test('RDS runbooks have no automatic failback and say what to do instead', () => {
  expect(() => failbackRunbook(patientPortal)).toThrow(FailbackUnsupportedError);
  expect(() => failbackRunbook(patientPortal)).toThrow(/create a read replica in the original region/);
});

/** ehr-db with a second DNS step that moves literal records (a web front, its CNAME, a record it creates). */
const withLiteralRecords = defineRunbook({
  ...ehrDb,
  steps: [
    ...ehrDb.steps,
    {
      id: 'web-front',
      kind: 'dns.switch',
      zone: { name: 'sandbox.drctl.internal.' },
      records: [
        { name: 'web-a.sandbox.drctl.internal.', type: 'A', value: '10.20.0.9' },
        { name: 'WEB-WWW.sandbox.drctl.internal', type: 'CNAME', value: 'web-standby.example.' },
        { name: 'web-new.sandbox.drctl.internal.', type: 'A', value: '10.20.0.7' },
        { name: 'web-reports.sandbox.drctl.internal.', type: 'A', value: '10.20.0.8' },
      ],
    },
  ],
});
const zone = { name: 'sandbox.drctl.internal.' };

function webFront(back: ReturnType<typeof failbackRunbook>) {
  const leaves = back.steps.flatMap((step) => (step.kind === 'parallel' ? step.steps : [step]));
  return leaves.find((step) => step.id === 'web-front');
}

test('literal DNS records go back to every value and the TTL the failover read before switching them; one that did not exist, or holds a member DNS may not point at, is left alone', () => {
  // Before: the failback's step was the failover's, so each record was set to the standby value again.
  const recordsBefore = recordsBeforeOf([
    {
      kind: 'dns.switch',
      stepId: 'web-front',
      before: {
        zone,
        records: [
          { name: 'web-a.sandbox.drctl.internal.', type: 'A', ttl: 120, values: ['10.10.0.1', '10.10.0.2'] },
          {
            name: 'web-www.sandbox.drctl.internal.',
            type: 'CNAME',
            ttl: 300,
            values: ['web-primary.example.'],
          },
          { name: 'web-new.sandbox.drctl.internal.', type: 'A', ttl: null, values: [] },
          // The replica's address: the member a failback fences (its primary, swapped).
          { name: 'web-reports.sandbox.drctl.internal.', type: 'A', ttl: 60, values: ['127.0.0.3'] },
        ],
      },
    },
  ]);

  const back = failbackRunbook(withLiteralRecords, { flagsBefore: new Map(), recordsBefore });

  const step = webFront(back);
  expect(step?.kind === 'dns.switch' && step.records).toEqual([
    { name: 'web-a.sandbox.drctl.internal.', type: 'A', ttl: 120, values: ['10.10.0.1', '10.10.0.2'] },
    { name: 'WEB-WWW.sandbox.drctl.internal', type: 'CNAME', ttl: 300, value: 'web-primary.example.' },
  ]);
  // The records that point at a member follow the one the failback promotes.
  const ehr = back.steps.find((s) => s.kind === 'dns.switch' && s.id !== 'web-front');
  expect(ehr?.kind === 'dns.switch' && ehr.records.every((record) => record.pointTo !== undefined)).toBe(
    true,
  );
});

test('a literal record that held the original primary’s address goes back to it after the failback promotes it, not before (the cross-check would refuse the whole failback)', () => {
  const held = (stepId: string) =>
    recordsBeforeOf([
      {
        kind: 'dns.switch',
        stepId,
        before: {
          zone,
          records: [{ name: 'web-a.sandbox.drctl.internal.', type: 'A', ttl: 60, values: ['127.0.0.2'] }],
        },
      },
    ]);
  const early = defineRunbook({
    ...withLiteralRecords,
    steps: [withLiteralRecords.steps.find((step) => step.id === 'web-front')!, ...ehrDb.steps],
  });

  const after = webFront(
    failbackRunbook(withLiteralRecords, { flagsBefore: new Map(), recordsBefore: held('web-front') }),
  );
  const before = webFront(
    failbackRunbook(early, { flagsBefore: new Map(), recordsBefore: held('web-front') }),
  );

  expect(after?.kind === 'dns.switch' && after.records).toEqual([
    { name: 'web-a.sandbox.drctl.internal.', type: 'A', ttl: 60, value: '127.0.0.2' },
  ]);
  expect(before).toBeUndefined();
});

test('without a recorded failover the failback leaves literal DNS records alone rather than guess', () => {
  expect(webFront(failbackRunbook(withLiteralRecords))).toBeUndefined();
});

test('what a failback restores: of each step the read of its last execution, whatever became of it; across steps the first read of a record', () => {
  const read = (stepId: string, values: string[]) => ({
    kind: 'dns.switch',
    stepId,
    before: { zone, records: [{ name: 'web-a.sandbox.drctl.internal', type: 'A', ttl: 60, values }] },
  });
  const key = dnsRecordKey(zone, 'A', 'WEB-A.sandbox.drctl.internal.');

  // A first execution read 10.10.0.1 and failed before switching; another writer then set 10.10.0.7, and the
  // operator's retry (its merged read) switched from that. A later step read the failover's own value.
  const sets = recordsBeforeOf([
    read('web-front', ['10.10.0.1']),
    read('web-front', ['10.10.0.7']),
    read('web-again', ['10.20.0.9']),
  ]);

  expect(sets.get(key)).toEqual({ ttl: 60, values: ['10.10.0.7'] });
});

test('a failback that would change nothing (no database, nothing recorded, only an approval left) is refused, saying why', () => {
  const dnsOnly = defineRunbook({
    id: 'web-front',
    title: 'web front',
    owner: 'tests',
    objectives: { rto: '5m', rpo: '1m' },
    targets: {},
    steps: [
      { id: 'go-ahead', kind: 'approval' },
      withLiteralRecords.steps.find((step) => step.id === 'web-front')!,
    ],
  });

  expect(() => failbackRunbook(dnsOnly)).toThrow(FailbackUnsupportedError);
  expect(() => failbackRunbook(dnsOnly)).toThrow(/would change nothing: it promotes no database/);
});
