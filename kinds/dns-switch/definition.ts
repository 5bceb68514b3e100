import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { CheckResult, PlannedChange, StepOutcome } from '../../activities/contracts';
import { PermanentFailure } from '../../common/failure-types';
import { failureDetailOf, failureMessageOf, failureTypeOf } from '../../common/failure-type-of';
import type { RunbookIssue } from '../../runbooks/runbook-validation-error';
import { leafStepSchema, zoneRef, type ZoneRef } from '../../runbooks/schema-parts';
import type { Runbook } from '../../runbooks/schema';
import { databaseNamedBy, memberAddresses, namesAddress, unknownDatabaseIssue } from '../database-targets';
import { addressKindOf, RECORD_TYPE_FOR, type AddressKind } from './address-kind';
import { fqdn, recordLabel } from '../../common/record-name';
import { withRunChange } from '../run-change';
import {
  preflightRequest,
  type EffectRecord,
  type RecordSetBefore,
  type RunContext,
  type StepKind,
  type StepResult,
} from '../step-kind';
import { holdsValues, recordValues, valuesIfSeveral } from '../../common/record-values';
import { hasPatch } from '../../workflows/patch-bundle';
import { diffRecords, plannedDnsChanges } from './planned-changes';

const recordTarget = z
  .object({
    name: z.string().min(1),
    type: z.enum(['A', 'AAAA', 'CNAME']),
    /**
     * Route 53 takes a TTL of 0 to 2147483647 seconds (ResourceRecordSet,
     * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html); a failback restores one
     * as the failover found it.
     */
    ttl: z.number().int().min(0).max(2_147_483_647).default(60),
    /** Point the record at a database member's endpoint; DNS then only switches once it is confirmed writable. */
    pointTo: z
      .object({ database: z.string().min(1), member: z.enum(['primary', 'replica']) })
      .strict()
      .optional(),
    /** Or a literal value. Exactly one of pointTo, value and values. */
    value: z.string().min(1).optional(),
    /** Or several literal values: an A or AAAA record of more than one address (what a failback puts back). */
    values: z.array(z.string().min(1)).min(2).optional(),
  })
  .strict()
  .refine((r) => [r.pointTo, r.value, r.values].filter((given) => given !== undefined).length === 1, {
    message: 'give exactly one of pointTo, value and values',
  });

export type RecordTarget = z.output<typeof recordTarget>;
export type RecordType = RecordTarget['type'];

export interface DnsRecordChange {
  name: string;
  type: RecordType;
  ttl: number;
  value: string;
  /** Every value, when the record is set to more than one (the undo of a record that held several). */
  values?: string[];
}

export interface DnsSwitchInput {
  zone: ZoneRef;
  records: DnsRecordChange[];
  checkResolution: boolean;
  /**
   * The records as the run read them ahead (its undo): on the switch's first attempt, which has sent nothing yet,
   * a record that no longer holds this state moved since, and the switch refuses with ChangedSinceRead (or, when
   * the change batches before the one refused went through, PartlySwitched).
   */
  expectedBefore?: DnsRecordState[];
  /**
   * Set by runs that handle PartlySwitched (`DNS_SWAPS_IN_BATCHES_PATCH`), with `expectedBefore`: a switch over one
   * change batch swaps batch by batch, and a later attempt that finds a record another writer moved since the
   * read-ahead fails PartlySwitched instead of UPSERTing over it. Without it, such a switch reads the zone and
   * UPSERTs, as runs recorded before it did.
   */
  batchedSwaps?: boolean;
}

export interface DnsCheckInput {
  zone: ZoneRef;
  records: Array<{ name: string; type: RecordType }>;
}

/**
 * The details of a PartlySwitched failure of `switchDns`: the positions in its input's `records` of the records
 * it switched (from the state read ahead) before a later change batch was refused.
 */
export interface PartlySwitchedDetails {
  switched: number[];
}

/** What undoes a switch: the records it changed, back to the values read before. */
export interface DnsUndo {
  zone: ZoneRef;
  records: DnsRecordChange[];
}

/** A record as Route 53 holds it now; `values` empty and `ttl` null when there is no such record. */
export interface DnsRecordState {
  name: string;
  type: RecordType;
  ttl: number | null;
  values: string[];
}

/**
 * The undo a DNS step records before it switches: each record it changes, with the value it held and the value
 * it is switched to, and the database whose member either names (rollback after a promotion keeps those).
 * Records that did not exist before cannot be put back by an UPSERT: they are listed in `created`.
 */
export interface DnsSwitchUndo {
  zone: ZoneRef;
  records: Array<
    DnsRecordChange & {
      switchedTo: string;
      /** Every value the step set, when it set several (`switchedTo` is the first). */
      switchedToValues?: string[];
      database?: string;
    }
  >;
  created: string[];
}

/** Every value a switch set on a record it recorded in its undo. */
function switchedValues(record: DnsSwitchUndo['records'][number]): string[] {
  return record.switchedToValues ?? [record.switchedTo];
}

/** Two record values name the same address (a name compared without case and trailing dot). */
function sameAddress(held: string, value: string): boolean {
  return namesAddress(held, value, 'address');
}

export interface DnsSwitchActivities {
  checkDnsRecords(input: DnsCheckInput): Promise<CheckResult[]>;
  planDnsSwitch(input: DnsSwitchInput): Promise<PlannedChange[]>;
  /** Reads the records' current values (the state the step is about to change). */
  readDnsRecords(input: DnsCheckInput): Promise<DnsRecordState[]>;
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

/** The literal values a record sets (`value`, or `values`), or undefined for a record that points at a member. */
function literalValues(record: RecordTarget): string[] | undefined {
  return record.values ?? (record.value === undefined ? undefined : [record.value]);
}

/** Where a record's literal value sits in the step: `.records[1].value`, or `.records[1].values[0]`. */
function literalPath(record: RecordTarget, index: number, position: number): string {
  return record.values === undefined ? `.records[${index}].value` : `.records[${index}].values[${position}]`;
}

/** Route 53 UPSERTs, one change per zone, INSYNC and the answer checked; only to confirmed-writable members. */
/**
 * What a record will hold, when validation can tell: its literal value, or the member endpoint `pointTo` names
 * (an AWS database's endpoint is a name; a self-managed one's is the endpoint the runbook gives).
 */
function recordHolds(
  record: RecordTarget,
  runbook: Runbook,
): { kind: AddressKind; what: string } | undefined {
  const literal = literalValues(record);
  if (literal !== undefined) {
    const first = literal[0] ?? '';
    return { kind: addressKindOf(first), what: literal.length === 1 ? first : literal.join(', ') };
  }
  const { database, member } = record.pointTo ?? {};
  const target = database === undefined ? undefined : runbook.targets.databases[database];
  if (target === undefined || member === undefined) return undefined;
  const endpoint = memberAddresses(target).find(
    (address) => address.kind === 'address' && address.path === `${member}.endpoint`,
  );
  if (endpoint !== undefined)
    return {
      kind: addressKindOf(endpoint.address),
      what: `${database}'s ${member} endpoint ${endpoint.address}`,
    };
  return target.provider === 'postgres'
    ? undefined
    : { kind: 'hostname', what: `the endpoint of ${database}'s ${member} (a name)` };
}

export const dnsSwitch: StepKind<typeof schema, DnsSwitchActivities, DnsSwitchUndo> = {
  kind: 'dns.switch',
  description: 'moves Route 53 records (one change batch per zone), waits INSYNC and checks the answers',
  mutates: true,
  schema,
  activityNames: ['checkDnsRecords', 'planDnsSwitch', 'readDnsRecords', 'switchDns'],
  crossCheck(step, { runbook, promotedBefore }) {
    const issues: RunbookIssue[] = [];
    const seen = new Map<string, number>();
    step.records.forEach((record, index) => {
      // One change batch may name a record once: Route 53 refuses a batch that deletes it twice.
      const label = recordLabel(record.type, record.name);
      const first = seen.get(label);
      if (first !== undefined)
        issues.push({
          path: `.records[${index}].name`,
          message: `${label} is already switched by records[${first}] of this step: name each record once`,
        });
      else seen.set(label, index);
      const holds = recordHolds(record, runbook);
      if (holds !== undefined && RECORD_TYPE_FOR[holds.kind] !== record.type)
        issues.push({
          path: `.records[${index}].type`,
          message: `${record.type === 'A' ? 'an' : 'a'} ${record.type} record cannot hold ${holds.what} (${holds.kind === 'hostname' ? 'a name' : `an ${holds.kind} address`}): Route 53 refuses it, after the steps before have run; use type ${RECORD_TYPE_FOR[holds.kind]}`,
        });
      const literal = literalValues(record);
      if (literal !== undefined) {
        const kinds = new Set(literal.map(addressKindOf));
        if (kinds.size > 1)
          issues.push({
            path: `.records[${index}].values`,
            message: `${literal.join(', ')} mix names and addresses of different kinds: one record holds values of one kind (its type)`,
          });
        else if (record.type === 'CNAME' && literal.length > 1)
          issues.push({
            path: `.records[${index}].values`,
            message:
              'a CNAME record holds one value: Route 53 refuses a CNAME record set of several; use value',
          });
        literal.forEach((value, position) => {
          const named = databaseNamedBy(value, runbook);
          const path = literalPath(record, index, position);
          // Only a primary's address is refused here: an Aurora cluster's own endpoint, say, names no old primary.
          if (named !== undefined && named.member.startsWith('primary')) {
            issues.push({
              path,
              message:
                `${value} is the address of database "${named.database}" (${named.member}), its old primary: a failover ` +
                `points DNS at the promoted replica only; use pointTo { database: "${named.database}", member: "replica" } after its database.promote step`,
            });
          } else if (named !== undefined && !promotedBefore.has(named.database)) {
            issues.push({
              path,
              message:
                `${value} is the address of database "${named.database}" (${named.member}): DNS may only point at a member ` +
                `this runbook has confirmed writable; use pointTo after a database.promote step for "${named.database}"`,
            });
          }
        });
        return;
      }
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
    const records = step.records.map((record) => {
      const literal = literalValues(record);
      return {
        name: record.name,
        type: record.type,
        ttl: record.ttl,
        value:
          literal?.[0] ?? context.plannedWritable.get(record.pointTo?.database ?? '') ?? '(not promoted)',
        ...valuesIfSeveral({ values: literal }),
      };
    });
    if (!hasPatch(DNS_PLAN_READS_ONCE_PATCH))
      return {
        changes: await context.activities.planDnsSwitch({
          zone: step.zone,
          records,
          checkResolution: step.checkResolution,
        }),
      };
    // Planned again once a promotion's plan gives the replica's address: from the same read, not a second one.
    const read = await context.readOnce(step.id, () => context.activities.readDnsRecords(namesOf(step)));
    const held = new Map(read.map((state) => [recordLabel(state.type, state.name), state]));
    const diffs = diffRecords(records, (label) => {
      const state = held.get(label);
      return state === undefined || state.ttl === null ? undefined : { ...state, ttl: state.ttl };
    });
    return {
      changes: plannedDnsChanges(
        diffs,
        step.zone.name === undefined ? (step.zone.id ?? '') : fqdn(step.zone.name),
      ),
    };
  },
  readAhead: (step, activities) => activities.readDnsRecords(namesOf(step)),
  async run(step, context) {
    const records = recordsToWrite(step, context.runbook, context.state.confirmedWritable);
    // readAhead read `namesOf(step)`: the same records in the same order as `records`. Not awaited when absent:
    // runs recorded before it schedule their read at once, and must replay so.
    const readAhead =
      context.readAhead === undefined
        ? undefined
        : ((await context.readAhead) as DnsRecordState[] | undefined);
    if (readAhead !== undefined) {
      const batched = hasPatch(DNS_SWAPS_IN_BATCHES_PATCH);
      try {
        return await switchFrom(
          step,
          records,
          readAhead,
          context,
          batched ? 'guarded in batches' : 'guarded',
        );
      } catch (error) {
        // Only a switch asked for batched swaps fails PartlySwitched; handled whenever it comes, well formed.
        const switched = switchedRecords(error, records.length);
        // Some records were switched from the state read ahead, and their undo stays that state (the undo
        // recorded now still holds it, for an abort during the read below); the others are read again.
        if (switched !== undefined)
          return switchFromRead(step, records, context, 'read again', { switched, readAhead });
        if (failureTypeOf(error) !== PermanentFailure.ChangedSinceRead) throw error;
        // Nothing was sent: withdraw the stale undo now, so an abort during the read below undoes nothing.
        context.controls.beforeEffect({ willChange: false, supersedes: true });
      }
    }
    return switchFromRead(step, records, context, readAhead === undefined ? 'read' : 'read again');
  },
  async undo(undo, context) {
    const kept = context.promotion === 'none' ? [] : undo.records.filter((r) => r.database !== undefined);
    const parts: string[] = [];
    let restore = undo.records.filter((r) => !kept.includes(r));
    let alreadyBack = 0;
    let left = 0;
    // Only a record that holds what the step set goes back: one that holds something else was changed by another
    // writer since (or the step never got to it), and setting it to the value read before would undo their change.
    if (restore.length > 0 && hasPatch(DNS_UNDO_ONLY_WHAT_IT_SWITCHED_PATCH)) {
      const now = await context.activities.readDnsRecords({
        zone: undo.zone,
        records: restore.map(({ name, type }) => ({ name, type })),
      });
      const holding = restore.map((record, index) => {
        const values = now[index]?.values ?? [];
        const holds = (wanted: string[]) => holdsValues(values, wanted, sameAddress);
        return { record, values, switched: holds(switchedValues(record)), back: holds(recordValues(record)) };
      });
      const movedOn = holding.filter((h) => !h.switched && !h.back);
      alreadyBack = holding.filter((h) => !h.switched && h.back).length;
      left = movedOn.length;
      if (alreadyBack > 0)
        parts.push(`${alreadyBack} record(s) already held their value from before the step`);
      if (movedOn.length > 0) {
        parts.push(
          `left ${movedOn.map((h) => `${h.record.type} ${h.record.name} at ${h.values.join(',') || '(nothing)'}`).join(', ')}: ` +
            'it holds neither the value the step set nor the one before, so another writer changed it; put it back by hand if needed',
        );
      }
      restore = holding.filter((h) => h.switched).map((h) => h.record);
    }
    if (restore.length > 0) {
      const outcome = await context.activities.switchDns({
        zone: undo.zone,
        records: restore.map(({ name, type, ttl, value, values }) => ({
          name,
          type,
          ttl,
          value,
          ...valuesIfSeveral({ values }),
        })),
        checkResolution: true,
      });
      parts.push(outcome.summary);
    }
    if (kept.length > 0) {
      const records =
        context.effect === 'complete'
          ? kept.map(
              (r) =>
                `${r.type} ${r.name} → ${switchedValues(r).join(',')} (was ${recordValues(r).join(',')})`,
            )
          : kept.map(
              (r) =>
                `${r.type} ${r.name} as it is (${recordValues(r).join(',')} before the step, which may have set ${switchedValues(r).join(',')})`,
            );
      parts.push(
        `kept ${records.join(', ')}: ` +
          `a promotion ${context.promotion === 'completed' ? 'completed' : 'may have completed'} in this run, and moving a record of database ` +
          `${[...new Set(kept.map((r) => `"${r.database}"`))].join(', ')} back would send clients to the old member ` +
          '(read-only when fenced, a second primary when not); drctl failback moves it back deliberately',
      );
    }
    if (undo.created.length > 0)
      parts.push(`${undo.created.join(', ')} did not exist before the step; delete by hand if needed`);
    const undone = restore.length + alreadyBack;
    const status =
      undone === 0
        ? kept.length > 0
          ? 'kept'
          : 'not undone'
        : kept.length + undo.created.length + left > 0
          ? 'partly undone'
          : 'undone';
    return { status, detail: parts.join('; ') };
  },
  // A record that points at a member follows the member the failback promotes. A literal record goes back to what
  // the failover read before switching it (every value, its TTL). Left as it is, and dropped from the step: a
  // literal record with nothing recorded (no run known, or the failover never switched it), one that did not exist
  // before the failover (an UPSERT cannot make it not exist), and one whose values name a member the failback has
  // not promoted by then (DNS only ever points at a member confirmed writable: the cross-check would refuse the
  // whole failback).
  failback(step, recorded, { databases, promotedBefore }) {
    const records = step.records.flatMap((record): RecordTarget[] => {
      if (literalValues(record) === undefined) return [record];
      const was = recorded.recordsBefore?.get(dnsRecordKey(step.zone, record.type, record.name));
      if (was === undefined || was.ttl === null || was.values.length === 0) return [];
      if (was.values.some((value) => namesUnconfirmedMember(value, databases, promotedBefore))) return [];
      const { name, type } = record;
      const [only] = was.values;
      return [
        { name, type, ttl: was.ttl, ...(was.values.length === 1 ? { value: only } : { values: was.values }) },
      ];
    });
    return records.length === 0 ? [] : [{ ...step, records }];
  },
  examples: {
    valid: [
      {
        before: [
          { id: 'fence', kind: 'database.fence', database: 'db' },
          { id: 'promote', kind: 'database.promote', database: 'db' },
        ],
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
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z123' },
          records: [{ name: 'web.example.internal.', type: 'A', values: ['10.9.9.1', '10.9.9.2'] }],
        },
      },
    ],
    invalid: [
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [{ name: 'www.example.internal.', type: 'CNAME', values: ['a.example.', 'b.example.'] }],
        },
        path: '.records[0].values',
        message: /a CNAME record holds one value/,
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [{ name: 'web.example.internal.', type: 'A', values: ['10.9.9.1', 'web.example.'] }],
        },
        path: '.records[0].values',
        message: /mix names and addresses/,
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [
            { name: 'web.example.internal.', type: 'A', value: '10.9.9.1', values: ['10.9.9.1', '10.9.9.2'] },
          ],
        },
        path: '.records[0]',
        message: /exactly one of pointTo, value and values/,
      },
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
      {
        // Before: valid; Route 53 refuses a CNAME holding an address, or an A record holding a name, mid-run.
        before: [
          { id: 'fence', kind: 'database.fence', database: 'db' },
          { id: 'promote', kind: 'database.promote', database: 'db' },
        ],
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { name: 'example.internal.' },
          records: [
            { name: 'db.example.internal.', type: 'CNAME', pointTo: { database: 'db', member: 'replica' } },
          ],
        },
        path: '.records[0].type',
        message:
          /a CNAME record cannot hold db's replica endpoint 10\.0\.0\.3 \(an ipv4 address\).*use type A/,
      },
      {
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [{ name: 'www.example.internal.', type: 'A', value: 'standby.example.internal.' }],
        },
        path: '.records[0].type',
        message: /an A record cannot hold standby\.example\.internal\. \(a name\).*use type CNAME/,
      },
      {
        // Before: valid; the change batch then deleted the record twice, which Route 53 refuses.
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [
            { name: 'www.example.internal.', type: 'A', value: '10.9.9.1' },
            { name: 'WWW.example.internal', type: 'A', value: '10.9.9.2' },
          ],
        },
        path: '.records[1].name',
        message: /A www\.example\.internal\. is already switched by records\[0\] of this step/,
      },
      {
        // Before: valid once a promotion came first, then refused mid-run, after the promotion.
        before: [
          { id: 'fence', kind: 'database.fence', database: 'db' },
          { id: 'promote', kind: 'database.promote', database: 'db' },
        ],
        step: {
          id: 'dns',
          kind: 'dns.switch',
          zone: { id: 'Z1' },
          records: [{ name: 'db.example.internal.', type: 'A', value: '10.0.0.2' }],
        },
        path: '.records[0].value',
        message: /10\.0\.0\.2 is the address of database "db" \(primary\.endpoint\), its old primary/,
      },
    ],
  },
};

/**
 * The record values a DNS step writes. No record may point at a database member unless that member was
 * confirmed writable in this run: a `pointTo` record takes the endpoint its promotion confirmed (where the
 * promotion's write test landed), and a literal `value` that is a member's address counts as pointing at that
 * member. If the member has not been confirmed (its promotion failed and was continued past, was skipped, or
 * still runs beside this step in a parallel group) the step refuses: switching clients to a database that may
 * still be read-only, or to the old primary, would be an outage of its own.
 */
export function recordsToWrite(
  step: DnsSwitchStep,
  runbook: Runbook,
  confirmedWritable: ReadonlyMap<string, string>,
): DnsRecordChange[] {
  return step.records.map((record) => {
    const literal = literalValues(record);
    if (literal === undefined) {
      const database = record.pointTo?.database ?? '';
      const value = confirmedWritable.get(database);
      if (value === undefined) {
        throw ApplicationFailure.nonRetryable(
          `refusing to point ${record.name} at database "${database}": it has not been confirmed ` +
            'writable in this run (its promotion did not succeed). Promote it, then re-run or retry this step.',
          PermanentFailure.UnsafeOrder,
        );
      }
      return { name: record.name, type: record.type, ttl: record.ttl, value };
    }
    for (const value of literal) {
      const named = databaseNamedBy(value, runbook);
      const confirmed = named === undefined ? undefined : confirmedWritable.get(named.database);
      if (named !== undefined && (confirmed === undefined || !namesAddress(value, confirmed, 'address'))) {
        throw ApplicationFailure.nonRetryable(
          `refusing to point ${record.name} at ${value}: it is the address of database "${named.database}" (${named.member}), ` +
            (confirmed === undefined
              ? 'which has not been confirmed writable in this run (its promotion has not succeeded yet). '
              : `and the member confirmed writable in this run is ${confirmed}. `) +
            'Point DNS at a database with pointTo, after its database.promote step.',
          PermanentFailure.UnsafeOrder,
        );
      }
    }
    return {
      name: record.name,
      type: record.type,
      ttl: record.ttl,
      value: literal[0] ?? '',
      ...valuesIfSeveral({ values: literal }),
    };
  });
}

/**
 * Runs that began after this undo a switch only on the records that still hold what it set (one read first); runs
 * recorded before it put every record back.
 */
export const DNS_UNDO_ONLY_WHAT_IT_SWITCHED_PATCH = 'dns-undo-only-what-it-switched';

/**
 * Runs that began after this merge the undo of a switch retried by an operator (`mergedUndo`); runs recorded
 * before it keep the first execution's undo for every record.
 */
export const DNS_RETRY_MERGES_UNDO_PATCH = 'dns-retry-merges-undo';

/**
 * Runs that began after this ask a switch read ahead to swap batch by batch however many records it has
 * (`batchedSwaps`), which may fail PartlySwitched: the records it switched keep the undo read ahead, the others
 * are read again. Runs recorded before it never meet PartlySwitched (their switches read the zone and UPSERT),
 * nor does an old worker's workflow during a rolling upgrade.
 */
export const DNS_SWAPS_IN_BATCHES_PATCH = 'dns-swaps-in-batches';

/**
 * Plans that began after this read a switch's records once, and work out what it would change in the workflow: so
 * DNS planned again with a promoted replica's address costs no second read (one activity and one zone read less on
 * the plan's critical path). Plans recorded before it ask `planDnsSwitch` each time.
 */
export const DNS_PLAN_READS_ONCE_PATCH = 'dns-plan-reads-once';

/**
 * The positions of the records a switch refused partway had switched (PartlySwitched), or undefined for any other
 * failure, or one whose details do not name them: that failure fails the step as it is.
 */
function switchedRecords(error: unknown, records: number): Set<number> | undefined {
  if (failureTypeOf(error) !== PermanentFailure.PartlySwitched) return undefined;
  const switched = (failureDetailOf(error) as Partial<PartlySwitchedDetails> | undefined)?.switched;
  if (!Array.isArray(switched) || !switched.every((i) => Number.isInteger(i) && i >= 0 && i < records))
    return undefined;
  return new Set(switched);
}

function namesOf(step: DnsSwitchStep): DnsCheckInput {
  return { zone: step.zone, records: step.records.map(({ name, type }) => ({ name, type })) };
}

/**
 * How many times a switch reads its records and finds one moved by the time it switches (another writer each time)
 * before the step fails: a writer that keeps changing them is for an operator to find, not to race.
 */
export const READS_BEFORE_GIVING_UP = 3;

/**
 * Reads the records and switches them from that read, guarded as a switch read ahead is: a record another writer
 * moves between the read and the switch fails the switch with nothing sent (ChangedSinceRead), and the records are
 * read again, up to `READS_BEFORE_GIVING_UP` times. Unguarded, the switch would set the record over the writer,
 * and the undo would put back the value from before the writer. `partly`: the records a refused switch already
 * switched (PartlySwitched), whose undo stays the state read ahead.
 */
async function switchFromRead(
  step: DnsSwitchStep,
  records: DnsRecordChange[],
  context: RunContext<DnsSwitchActivities>,
  how: 'read' | 'read again',
  partly?: { switched: Set<number>; readAhead: DnsRecordState[] },
): Promise<StepResult> {
  for (let reads = 1; ; reads++) {
    const now = await context.activities.readDnsRecords(namesOf(step));
    const before =
      partly === undefined
        ? now
        : now.map((state, index) => (partly.switched.has(index) ? partly.readAhead[index]! : state));
    try {
      return await switchFrom(step, records, before, context, how, now);
    } catch (error) {
      if (failureTypeOf(error) !== PermanentFailure.ChangedSinceRead) throw error;
      // Nothing was sent: the undo just recorded stands only for what a refused switch already switched, if any
      // (an abort, or the operator after the step gave up, must not be told to put back what was never moved).
      context.controls.beforeEffect(
        partly === undefined
          ? { willChange: false, supersedes: true }
          : switchedOnly(step, records, before, partly.switched, context),
      );
      if (reads >= READS_BEFORE_GIVING_UP) {
        throw ApplicationFailure.nonRetryable(
          `${failureMessageOf(error)} (read ${reads} times, and each time a record moved before the switch: another writer keeps changing these records; find it before retrying the step)`,
          PermanentFailure.ChangedSinceRead,
        );
      }
      how = 'read again';
    }
  }
}

/** The record of a switch refused after earlier batches went through: the undo of the `switched` records only. */
function switchedOnly(
  step: DnsSwitchStep,
  records: DnsRecordChange[],
  before: DnsRecordState[],
  switched: Set<number>,
  context: RunContext<DnsSwitchActivities>,
): EffectRecord {
  const undo = undoOf(
    step.zone,
    records.filter((_, index) => switched.has(index)),
    before.filter((_, index) => switched.has(index)),
    context.runbook,
    context.state.confirmedWritable,
  );
  const willChange = undo.records.length + undo.created.length > 0;
  return {
    willChange,
    ...(willChange ? { undo } : {}),
    before: { zone: step.zone, records: before },
    supersedes: true,
  };
}

/**
 * Records the undo from `before` and switches. `guarded`: `before` was read ahead, so the switch refuses if the
 * records moved since (`guarded in batches`: also batch by batch, PartlySwitched when a later batch is refused);
 * `read`/`read again` (after such a refusal: this record replaces the one that announced it): the switch refuses
 * if the records no longer hold `expected`, the state just read (it differs from `before` for records a refused
 * switch already switched, whose undo is the state read ahead).
 */
async function switchFrom(
  step: DnsSwitchStep,
  records: DnsRecordChange[],
  before: DnsRecordState[],
  context: RunContext<DnsSwitchActivities>,
  how: 'guarded' | 'guarded in batches' | 'read' | 'read again',
  expected?: DnsRecordState[],
): Promise<StepResult> {
  const undo = undoOf(step.zone, records, before, context.runbook, context.state.confirmedWritable);
  const willChange = undo.records.length + undo.created.length > 0;
  const recorded = context.controls.beforeEffect({
    willChange,
    ...(willChange ? { undo } : {}),
    before: { zone: step.zone, records: before },
    ...(how === 'read again' ? { supersedes: true } : {}),
  });
  // An operator's retry: the run holds the first execution's undo, which may have switched some records and
  // failed before the others. Kept whole, its rollback would put a record the first execution never switched
  // back to its value from before a writer who moved it since; merged, that record's undo is what was read now.
  let earlierSwitched = false;
  if (recorded.byEarlierExecution && isSwitchUndo(recorded.undo) && hasPatch(DNS_RETRY_MERGES_UNDO_PATCH)) {
    const merged = mergedUndo(recorded.undo, undo, records, expected ?? before);
    earlierSwitched =
      merged.records.length + merged.created.length > undo.records.length + undo.created.length;
    context.controls.beforeEffect({
      willChange: true,
      undo: merged,
      before: { zone: step.zone, records: stateBefore(merged, records, before) },
      mergedWithEarlier: true,
    });
  }
  const guard = how === 'guarded' || how === 'guarded in batches' ? before : expected;
  const outcome = await context.activities.switchDns({
    zone: step.zone,
    records,
    checkResolution: step.checkResolution,
    ...(guard === undefined ? {} : { expectedBefore: guard }),
    ...(how === 'guarded in batches' ? { batchedSwaps: true } : {}),
  });
  // Records the earlier execution switched hold their new values now: this execution finds nothing to send, but the
  // run changed them (the timeline, and the evidence, must not say the switch changed nothing).
  return earlierSwitched
    ? withRunChange(
        outcome,
        true,
        'the records',
        'the earlier execution of this step switched them before it failed',
      )
    : withRunChange(outcome, willChange, 'the records');
}

/**
 * The undo of a retried switch, record by record: the earlier execution's where the record holds its new value
 * now (`now`, whatever its TTL: that execution switched it; one a writer set to exactly that value counts as
 * switched, as a later attempt of the switch counts it) and that execution recorded one, else the one from what
 * was read now (`fresh`: the earlier execution did not switch it, or a writer moved it since).
 */
function mergedUndo(
  earlier: DnsSwitchUndo,
  fresh: DnsSwitchUndo,
  records: DnsRecordChange[],
  now: DnsRecordState[],
): DnsSwitchUndo {
  const merged: DnsSwitchUndo = { zone: fresh.zone, records: [], created: [] };
  records.forEach((record, index) => {
    const label = `${record.type} ${record.name}`;
    const same = (r: DnsRecordChange) => r.name === record.name && r.type === record.type;
    const values = now[index]?.values ?? [];
    const holdsNew = holdsValues(values, recordValues(record), sameAddress);
    const recordedEarlier = earlier.records.some(same) || earlier.created.includes(label);
    const source = holdsNew && recordedEarlier ? earlier : fresh;
    merged.records.push(...source.records.filter(same));
    if (source.created.includes(label)) merged.created.push(label);
  });
  return merged;
}

/** The state before the step that an undo stands for, record by record (`read` where the undo has no entry). */
function stateBefore(
  undo: DnsSwitchUndo,
  records: DnsRecordChange[],
  read: DnsRecordState[],
): DnsRecordState[] {
  return records.map((record, index) => {
    const entry = undo.records.find((r) => r.name === record.name && r.type === record.type);
    if (entry !== undefined)
      return { name: record.name, type: record.type, ttl: entry.ttl, values: recordValues(entry) };
    if (undo.created.includes(`${record.type} ${record.name}`))
      return { name: record.name, type: record.type, ttl: null, values: [] };
    return read[index]!;
  });
}

function isSwitchUndo(undo: unknown): undo is DnsSwitchUndo {
  const u = undo as Partial<DnsSwitchUndo> | undefined;
  return Array.isArray(u?.records) && Array.isArray(u?.created) && u?.zone !== undefined;
}

/** The undo of a switch, from the records as they were read before it. */
function undoOf(
  zone: ZoneRef,
  records: DnsRecordChange[],
  before: DnsRecordState[],
  runbook: Runbook,
  confirmedWritable: ReadonlyMap<string, string>,
): DnsSwitchUndo {
  const undo: DnsSwitchUndo = { zone, records: [], created: [] };
  records.forEach((record, index) => {
    const was = before[index];
    const atDesired =
      was !== undefined &&
      was.ttl === record.ttl &&
      holdsValues(was.values, recordValues(record), sameAddress);
    if (atDesired) return;
    const previous = was?.values[0];
    if (was === undefined || previous === undefined) {
      undo.created.push(`${record.type} ${record.name}`);
      return;
    }
    // Any value it held before may name a database's member (an A record of two addresses, one the old primary).
    const database = [...recordValues(record), ...was.values]
      .map((value) => databaseNamedBy(value, runbook, confirmedWritable)?.database)
      .find((named) => named !== undefined);
    undo.records.push({
      name: record.name,
      type: record.type,
      ttl: was.ttl ?? record.ttl,
      value: previous,
      ...valuesIfSeveral(was),
      switchedTo: record.value,
      ...(record.values === undefined ? {} : { switchedToValues: record.values }),
      ...(database === undefined ? {} : { database }),
    });
  });
  return undo;
}

/** How a failback finds a record its failover read: the zone as the runbook names it, the type and the name. */
export function dnsRecordKey(zone: ZoneRef, type: string, name: string): string {
  return `${zone.id ?? fqdn(zone.name ?? '')} ${recordLabel(type, name)}`;
}

/**
 * The record sets a failover's DNS switches read before changing them, from its timeline. Of each step, the read of
 * its last execution: an operator's retry records the first execution's undo merged with what it read (a record
 * the first never switched keeps the value another writer gave it since). Whatever became of the step: one that
 * switched its records and then failed (the answers checked after INSYNC, a later batch refused) was skipped or
 * continued past with its records switched. Across steps the first read of a record is the state before the
 * failover.
 */
export function recordsBeforeOf(
  entries: ReadonlyArray<{ kind: string; stepId?: string; before?: unknown }>,
): Map<string, RecordSetBefore> {
  const readOfStep = new Map<string, { zone: ZoneRef; records: DnsRecordState[] }>();
  for (const entry of entries) {
    const before = entry.before as Partial<{ zone: ZoneRef; records: DnsRecordState[] }> | undefined;
    if (entry.kind !== 'dns.switch' || before?.zone === undefined || !Array.isArray(before.records)) continue;
    readOfStep.set(entry.stepId ?? '', { zone: before.zone, records: before.records });
  }
  const sets = new Map<string, RecordSetBefore>();
  for (const { zone, records } of readOfStep.values()) {
    for (const record of records) {
      const key = dnsRecordKey(zone, record.type, record.name);
      if (!sets.has(key)) sets.set(key, { ttl: record.ttl, values: [...record.values] });
    }
  }
  return sets;
}

/**
 * Whether a value is the address of a member DNS may not point at there: a primary of the failback's (swapped)
 * databases, the one it fences, or any member of a database it has not promoted by then.
 */
function namesUnconfirmedMember(
  value: string,
  databases: Runbook['targets']['databases'],
  promotedBefore: ReadonlySet<string>,
): boolean {
  return Object.entries(databases).some(([database, target]) =>
    memberAddresses(target).some(
      (member) =>
        namesAddress(value, member.address, member.kind) &&
        (member.path.startsWith('primary') || !promotedBefore.has(database)),
    ),
  );
}
