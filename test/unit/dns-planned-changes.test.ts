import { diffRecords, plannedDnsChanges } from '../../kinds/dns-switch/planned-changes';
import type { DnsRecordSet } from '../../activities/dns/route53-port';

const record = (index: number, value = '10.0.0.3') => ({
  name: `svc-${index}.z.test`,
  type: 'A' as const,
  ttl: 60,
  value,
});

test('GIVEN at most twenty records THEN the plan names each, with what it holds and what it would hold', () => {
  const held = new Map<string, DnsRecordSet>([
    ['A svc-0.z.test.', { name: 'svc-0.z.test.', type: 'A', ttl: 60, values: ['10.0.0.2'] }],
    ['A svc-1.z.test.', { name: 'svc-1.z.test.', type: 'A', ttl: 60, values: ['10.0.0.3'] }],
  ]);
  const diffs = diffRecords([record(0), record(1), record(2)], (label) => held.get(label));

  expect(plannedDnsChanges(diffs, 'z.test.')).toEqual([
    {
      target: 'A svc-0.z.test.',
      current: '10.0.0.2 (TTL 60)',
      desired: '10.0.0.3 (TTL 60)',
      willChange: true,
    },
    {
      target: 'A svc-1.z.test.',
      current: '10.0.0.3 (TTL 60)',
      desired: '10.0.0.3 (TTL 60)',
      willChange: false,
    },
    { target: 'A svc-2.z.test.', current: '(no record)', desired: '10.0.0.3 (TTL 60)', willChange: true },
  ]);
});

test('GIVEN 1,200 records of which 1,100 differ THEN the plan is one line for the zone, counting the change batches Route 53 allows (500 UPSERTs each)', () => {
  const records = Array.from({ length: 1_200 }, (_, index) => record(index));
  const diffs = diffRecords(records, (label) =>
    Number(/svc-(\d+)/.exec(label)?.[1]) < 100
      ? { name: label.slice(2), type: 'A', ttl: 60, values: ['10.0.0.3'] }
      : undefined,
  );

  expect(plannedDnsChanges(diffs, 'z.test.')).toEqual([
    {
      target: '1200 records in z.test.',
      current: '100 already at their desired values',
      desired: '1100 changed in 3 change batches',
      willChange: true,
    },
  ]);
});
