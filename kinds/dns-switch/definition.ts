import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { CheckResult, PlannedChange, StepOutcome } from '../../activities/contracts';
import { PermanentFailure } from '../../common/failure-types';
import type { RunbookIssue } from '../../runbooks/runbook-validation-error';
import { leafStepSchema, zoneRef, type ZoneRef } from '../../runbooks/schema-parts';
import { unknownDatabaseIssue } from '../database-targets';
import { preflightRequest, type StepKind } from '../step-kind';

const recordTarget = z
  .object({
    name: z.string().min(1),
    type: z.enum(['A', 'AAAA', 'CNAME']),
    ttl: z.number().int().min(0).max(172800).default(60),
    /** Point the record at a database member's endpoint; DNS then only switches once it is confirmed writable. */
    pointTo: z
      .object({ database: z.string().min(1), member: z.enum(['primary', 'replica']) })
      .strict()
      .optional(),
    /** Or a literal value. Exactly one of pointTo and value. */
    value: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.pointTo === undefined) !== (r.value === undefined), {
    message: 'give exactly one of pointTo and value',
  });

export type RecordTarget = z.output<typeof recordTarget>;
export type RecordType = RecordTarget['type'];

export interface DnsRecordChange {
  name: string;
  type: RecordType;
  ttl: number;
  value: string;
}

export interface DnsSwitchInput {
  zone: ZoneRef;
  records: DnsRecordChange[];
  checkResolution: boolean;
}

export interface DnsCheckInput {
  zone: ZoneRef;
  records: Array<{ name: string; type: RecordType }>;
}

/** What undoes a switch: the records it changed, back to the values read before. */
export interface DnsUndo {
  zone: ZoneRef;
  records: DnsRecordChange[];
}

export interface DnsSwitchActivities {
  checkDnsRecords(input: DnsCheckInput): Promise<CheckResult[]>;
  planDnsSwitch(input: DnsSwitchInput): Promise<PlannedChange[]>;
  switchDns(input: DnsSwitchInput): Promise<StepOutcome<DnsUndo>>;
}

/**
 * Records one dns.switch step may move: Route 53's default quota of records per hosted zone (10,000). The step
 * reads the zone in pages of 300 and writes in batches of up to 500 UPSERTs, so its calls grow with pages and
 * batches, not with records (it was 500 while every record cost its own reads).
 */
export const MAX_RECORDS_PER_STEP = 10_000;

const schema = leafStepSchema('dns.switch', {
  zone: zoneRef,
  records: z.array(recordTarget).min(1).max(MAX_RECORDS_PER_STEP),
  /** After INSYNC, ask Route 53 what it answers for each name and check it is the new value. */
  checkResolution: z.boolean().default(true),
});

type DnsSwitchStep = z.output<typeof schema>;

/** Route 53 UPSERTs, one change per zone, INSYNC and the answer checked; only to confirmed-writable members. */
export const dnsSwitch: StepKind<typeof schema, DnsSwitchActivities, DnsUndo> = {
  kind: 'dns.switch',
  description: 'moves Route 53 records (one change batch per zone), waits INSYNC and checks the answers',
  mutates: true,
  schema,
  activityNames: ['checkDnsRecords', 'planDnsSwitch', 'switchDns'],
  crossCheck(step, { runbook, promotedBefore }) {
    const issues: RunbookIssue[] = [];
    step.records.forEach((record, index) => {
      if (record.pointTo === undefined) return;
      const where = `.records[${index}].pointTo`;
      const unknown = unknownDatabaseIssue(`${where}.database`, record.pointTo.database, runbook);
      if (unknown.length > 0) issues.push(...unknown);
      else if (record.pointTo.member !== 'replica' || !promotedBefore.has(record.pointTo.database)) {
        issues.push({
          path: where,
          message:
            'DNS may only point at a database member this runbook has confirmed writable: ' +
            `add a database.promote step for "${record.pointTo.database}" before this step and point at its replica`,
        });
      }
    });
    return issues;
  },
  preflight: (step) => [
    preflightRequest({
      key: `dns:${step.zone.name ?? step.zone.id}`,
      label: `dns ${step.zone.name ?? step.zone.id}`,
      items: step.records.map((record) => ({ name: record.name, type: record.type })),
      run: (activities, records) => activities.checkDnsRecords({ zone: step.zone, records }),
    }),
  ],
  async plan(step, context) {
    const records = step.records.map((record) => ({
      name: record.name,
      type: record.type,
      ttl: record.ttl,
      value: record.pointTo
        ? (context.plannedWritable.get(record.pointTo.database) ?? '(not promoted)')
        : (record.value as string),
    }));
    return {
      changes: await context.activities.planDnsSwitch({
        zone: step.zone,
        records,
        checkResolution: step.checkResolution,
      }),
    };
  },
  run: (step, context) =>
    context.activities.switchDns({
      zone: step.zone,
      records: recordsToWrite(step, context.state.confirmedWritable),
      checkResolution: step.checkResolution,
    }),
  async undo(undo, context) {
    const outcome = await context.activities.switchDns({ ...undo, checkResolution: true });
    return { status: 'undone', detail: outcome.summary };
  },
  failback: (step) => [step],
  examples: {
    valid: [
      {
        before: [{ id: 'promote', kind: 'database.promote', database: 'db' }],
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { name: 'example.internal.' },
          records: [
            { name: 'db.example.internal.', type: 'A', pointTo: { database: 'db', member: 'replica' } },
          ],
        },
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z123' },
          records: [{ name: 'www.example.internal.', type: 'CNAME', value: 'standby.example.internal.' }],
        },
      },
    ],
    invalid: [
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { name: 'example.internal.' },
          records: [
            { name: 'db.example.internal.', type: 'A', pointTo: { database: 'db', member: 'replica' } },
          ],
        },
        path: '.records[0].pointTo',
        message: /confirmed writable/,
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: {},
          records: [{ name: 'a.', type: 'A', value: '1.2.3.4' }],
        },
        path: '.zone',
        message: /exactly one of name and id/,
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [{ name: 'a.', type: 'MX', value: 'x' }],
        },
        path: '.records[0].type',
        message: /"A", "AAAA", "CNAME"/,
      },
    ],
  },
};

/**
 * The record values a DNS step writes. A record that points at a database takes the endpoint its promotion
 * confirmed writable in this run; if there is none (the promotion failed and was continued past, or skipped),
 * the step refuses: switching clients to a database that may still be read-only would be an outage of its own.
 */
export function recordsToWrite(
  step: DnsSwitchStep,
  confirmedWritable: ReadonlyMap<string, string>,
): DnsRecordChange[] {
  return step.records.map((record) => {
    let value = record.value;
    if (record.pointTo !== undefined) {
      value = confirmedWritable.get(record.pointTo.database);
      if (value === undefined) {
        throw ApplicationFailure.nonRetryable(
          `refusing to point ${record.name} at database "${record.pointTo.database}": it has not been confirmed ` +
            'writable in this run (its promotion did not succeed). Promote it, then re-run or retry this step.',
          PermanentFailure.UnsafeOrder,
        );
      }
    }
    return { name: record.name, type: record.type, ttl: record.ttl, value: value as string };
  });
}
