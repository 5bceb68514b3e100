import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult, Irreversible, PlannedChange } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { pollUntil } from '../../activities/poll-until';
import { runStep } from '../../activities/step-outcome';
import { fqdn, recordLabel, sameRecordValue } from '../../activities/dns/record-name';
import type { DnsRecordSet, Route53Port } from '../../activities/dns/route53-port';
import type {
  DnsRecordChange,
  DnsRecordState,
  DnsSwitchActivities,
  DnsSwitchInput,
  DnsUndo,
} from './definition';

export interface DnsActivityDeps {
  route53: Route53Port;
  /** Intervals for waiting on a change and on resolution. Default: pollUntil's (200 ms, growing to 5 s). */
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number };
  /** How long the resolution check waits for every name to answer its new value after INSYNC. Default 30 s. */
  resolutionTimeoutMs?: number;
}

interface RecordDiff {
  record: DnsRecordChange;
  label: string;
  current: DnsRecordSet | undefined;
  differs: boolean;
}

/** Heartbeat details of a switch waiting for INSYNC; a retry resumes waiting on the same change. */
interface SwitchProgress {
  changeId: string;
  status: string;
}

export function activitiesFromPorts(ports: ActivityPorts): DnsSwitchActivities {
  return createDnsActivities({ route53: ports.route53 });
}

export function createDnsActivities({
  route53,
  poll = {},
  resolutionTimeoutMs = 30_000,
}: DnsActivityDeps): DnsSwitchActivities {
  async function diffRecords(zoneId: string, records: DnsRecordChange[]): Promise<RecordDiff[]> {
    assertNoDuplicates(records);
    const diffs: RecordDiff[] = [];
    for (const record of records) {
      const current = await route53.getRecordSet(zoneId, record.name, record.type);
      const atDesired =
        current !== undefined &&
        current.ttl === record.ttl &&
        current.values.length === 1 &&
        sameRecordValue(current.values[0] ?? '', record.value);
      diffs.push({ record, label: recordLabel(record.type, record.name), current, differs: !atDesired });
    }
    return diffs;
  }

  async function confirmResolution(zoneId: string, records: DnsRecordChange[]): Promise<string> {
    const deadline = Date.now() + resolutionTimeoutMs;
    let method = 'TestDNSAnswer';
    const read = async () => {
      const wrong: string[] = [];
      for (const record of records) {
        const answer = await route53.testDnsAnswer(zoneId, record.name, record.type);
        if (!answer.supported) method = 'record set read back (endpoint has no TestDNSAnswer)';
        const values = await answerValuesFrom(answer, zoneId, record);
        if (!(values.length === 1 && sameRecordValue(values[0] ?? '', record.value))) {
          wrong.push(
            `${recordLabel(record.type, record.name)} answers ${values.join(',') || '(nothing)'}, want ${record.value}`,
          );
        }
      }
      return wrong;
    };
    const wrong = await pollUntil(read, (w) => w.length === 0 || Date.now() >= deadline, {
      ...poll,
      describe: (w) => ({ resolving: w }),
    });
    if (wrong.length > 0) {
      throw transientFailure(
        'DnsResolutionMismatch',
        `The change is INSYNC but after ${resolutionTimeoutMs} ms ${wrong.join('; ')}; a retry re-checks, and if it persists look for an overriding record or another writer`,
      );
    }
    return method;
  }

  async function answerValuesFrom(
    answer: Awaited<ReturnType<Route53Port['testDnsAnswer']>>,
    zoneId: string,
    record: DnsRecordChange,
  ): Promise<string[]> {
    if (answer.supported)
      return answer.responseCode === 'NOERROR' || answer.responseCode === '' ? answer.values : [];
    return (await route53.getRecordSet(zoneId, record.name, record.type))?.values ?? [];
  }

  async function waitInSync(changeId: string): Promise<void> {
    await pollUntil(
      () => route53.getChange(changeId),
      (change) => change.status === 'INSYNC',
      { ...poll, describe: (change): SwitchProgress => ({ changeId: change.id, status: change.status }) },
    );
  }

  return {
    async checkDnsRecords(input): Promise<CheckResult[]> {
      const zoneCheck = `dns zone ${input.zone.name ?? input.zone.id}: exists`;
      let zone;
      try {
        zone = await route53.findZone(input.zone);
      } catch (error) {
        return [{ check: zoneCheck, ok: false, message: permanentMessage(error) }];
      }
      const results: CheckResult[] = [
        { check: zoneCheck, ok: true, message: `hosted zone ${zone.name} (${zone.id})` },
      ];
      for (const record of input.records) {
        const check = `dns ${recordLabel(record.type, record.name)}: exists`;
        try {
          const found = await route53.getRecordSet(zone.id, record.name, record.type);
          results.push(
            found
              ? { check, ok: true, message: `${describeSet(found)}` }
              : {
                  check,
                  ok: false,
                  message: `no ${record.type} record ${fqdn(record.name)} in zone ${zone.name}; create it or fix the record name in the runbook`,
                },
          );
        } catch (error) {
          results.push({ check, ok: false, message: permanentMessage(error) });
        }
      }
      return results;
    },

    async planDnsSwitch(input): Promise<PlannedChange[]> {
      const zone = await route53.findZone(input.zone);
      const diffs = await diffRecords(zone.id, input.records);
      return diffs.map((d) => ({
        target: d.label,
        current: d.current ? describeSet(d.current) : '(no record)',
        desired: `${d.record.value} (TTL ${d.record.ttl})`,
        willChange: d.differs,
      }));
    },

    async readDnsRecords(input): Promise<DnsRecordState[]> {
      const zone = await route53.findZone(input.zone);
      const states: DnsRecordState[] = [];
      for (const record of input.records) {
        const found = await route53.getRecordSet(zone.id, record.name, record.type);
        states.push({
          name: fqdn(record.name),
          type: record.type,
          ttl: found?.ttl ?? null,
          values: found?.values ?? [],
        });
      }
      return states;
    },

    switchDns(input: DnsSwitchInput) {
      return runStep(async () => {
        const zone = await route53.findZone(input.zone);
        const diffs = await diffRecords(zone.id, input.records);
        const differing = diffs.filter((d) => d.differs);
        const facts: Record<string, string | number | boolean | null> = {
          zoneId: zone.id,
          zoneName: zone.name,
        };
        for (const d of diffs) {
          const before = d.current ? d.current.values.join(',') || '(empty)' : '(no record)';
          facts[d.label] = d.differs ? `${before} → ${d.record.value}` : `${before} (unchanged)`;
        }

        let summary: string;
        if (differing.length === 0) {
          // An earlier attempt may have submitted the change and died before INSYNC: finish that wait.
          const pending = previousChangeId();
          if (pending) {
            await waitInSync(pending);
            facts.changeId = pending;
          }
          summary = `All ${diffs.length} record(s) in ${zone.name} already hold their desired values; nothing submitted`;
        } else {
          const change = await route53.upsertRecords(
            zone.id,
            differing.map((d) => ({
              name: fqdn(d.record.name),
              type: d.record.type,
              ttl: d.record.ttl,
              value: d.record.value,
            })),
            `drctl switchDns: ${differing.map((d) => `${d.label} -> ${d.record.value}`).join(', ')}`.slice(
              0,
              256,
            ),
          );
          facts.changeId = change.id;
          if (change.status !== 'INSYNC') await waitInSync(change.id);
          summary = `Switched ${differing.length} of ${diffs.length} record(s) in ${zone.name} (change ${change.id}, INSYNC): ${differing
            .map((d) => `${d.label} → ${d.record.value}`)
            .join(', ')}`;
        }

        if (input.checkResolution) {
          facts.resolutionCheck = await confirmResolution(zone.id, input.records);
          summary += '; every name answers its new value';
        }
        return { changed: differing.length > 0, summary, facts, ...compensationFor(input, differing) };
      });
    },
  };
}

function assertNoDuplicates(records: DnsRecordChange[]): void {
  const seen = new Set<string>();
  for (const record of records) {
    const label = recordLabel(record.type, record.name);
    if (seen.has(label)) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `${label} appears twice in one dns.switch step; Route 53 rejects a batch that changes a record twice — keep one entry`,
      );
    }
    seen.add(label);
  }
}

function describeSet(set: DnsRecordSet): string {
  return `${set.values.join(',') || '(empty)'} (TTL ${set.ttl})`;
}

/** A permanent fault becomes a failed check; anything retryable propagates so Temporal retries the check. */
function permanentMessage(error: unknown): string {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  throw error;
}

function previousChangeId(): string | undefined {
  try {
    const details = Context.current().info.heartbeatDetails as Partial<SwitchProgress> | undefined;
    return typeof details?.changeId === 'string' ? details.changeId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The undo of a switch: the records this attempt changed, back to the values it read before. A record that did
 * not exist before cannot be put back by an UPSERT; it is left out and named as irreversible.
 */
function compensationFor(
  input: DnsSwitchInput,
  differing: RecordDiff[],
): { compensation?: DnsUndo | Irreversible } {
  if (differing.length === 0) return {};
  const created = differing.filter((d) => !d.current || d.current.values.length === 0);
  if (created.length > 0) {
    return {
      compensation: {
        kind: 'irreversible',
        reason: `${created.map((d) => d.label).join(', ')} did not exist before; delete by hand if needed`,
      },
    };
  }
  return {
    compensation: {
      zone: input.zone,
      records: differing.map((d) => ({
        name: d.record.name,
        type: d.record.type,
        ttl: d.current?.ttl ?? d.record.ttl,
        value: d.current?.values[0] ?? '',
      })),
    },
  };
}
