import type { PlannedChange } from '../../activities/contracts';
import { changeBatches } from './change-batches';
import type { DnsRecordSet, DnsUpsert } from '../../activities/dns/route53-port';
import { fqdn, recordLabel, sameRecordValue } from '../../common/record-name';
import { holdsValues, recordValues, valuesIfSeveral } from '../../common/record-values';
import type { DnsRecordChange } from './definition';

/** Up to this many records a step's checks, plan and facts name each record; beyond, they are summarised. */
export const LISTED_RECORDS = 20;

export interface RecordDiff {
  record: DnsRecordChange;
  label: string;
  current: DnsRecordSet | undefined;
  differs: boolean;
}

/** Each record against what its zone holds now (`current`, by label): whether the switch would change it. */
export function diffRecords(
  records: readonly DnsRecordChange[],
  current: (label: string) => DnsRecordSet | undefined,
): RecordDiff[] {
  return records.map((record) => {
    const label = recordLabel(record.type, record.name);
    const now = current(label);
    const atDesired =
      now !== undefined &&
      now.ttl === record.ttl &&
      holdsValues(now.values, recordValues(record), sameRecordValue);
    return { record, label, current: now, differs: !atDesired };
  });
}

/**
 * What a switch would change, from one read of its records: each record while there are at most `LISTED_RECORDS`,
 * else one line for the zone. Pure, so a plan computes it in the workflow from a read it already made (DNS planned
 * again with a promoted replica's address reads nothing more).
 */
export function plannedDnsChanges(diffs: readonly RecordDiff[], zoneName: string): PlannedChange[] {
  if (diffs.length <= LISTED_RECORDS) {
    return diffs.map((d) => ({
      target: d.label,
      current: d.current ? describeSet(d.current) : '(no record)',
      desired: `${recordValues(d.record).join(',')} (TTL ${d.record.ttl})`,
      willChange: d.differs,
    }));
  }
  const differing = diffs.filter((d) => d.differs);
  const batches = changeBatches(differing.map((d) => upsertOf(d.record))).length;
  return [
    {
      target: `${diffs.length} records in ${zoneName}`,
      current: `${diffs.length - differing.length} already at their desired values`,
      desired: `${differing.length} changed in ${batches} change batch${batches === 1 ? '' : 'es'}`,
      willChange: differing.length > 0,
    },
  ];
}

export function upsertOf(record: DnsRecordChange): DnsUpsert {
  return {
    name: fqdn(record.name),
    type: record.type,
    ttl: record.ttl,
    value: record.value,
    ...valuesIfSeveral(record),
  };
}

export function describeSet(set: DnsRecordSet): string {
  return `${set.values.join(',') || '(empty)'} (TTL ${set.ttl})`;
}
