import { ApplicationFailure } from '@temporalio/common';
import type { CheckResult, Irreversible, PlannedChange } from '../../activities/contracts';
import type { ActivityPorts } from '../../activities/ports';
import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { failureTypeOf } from '../../common/failure-type-of';
import { resumeFrom } from '../../activities/heartbeat-details';
import { currentAttempt, currentRunId, heartbeat, pollUntil, sleep } from '../../activities/poll-until';
import { measuredChecks, runStep } from '../../activities/step-outcome';
import { holdsValues, recordValues, valuesIfSeveral } from '../../common/record-values';
import { changeBatches, swapBatches } from './change-batches';
import { fqdn, recordLabel, sameRecordValue } from '../../common/record-name';
import type { ChangeStatus, DnsChange, DnsRecordSet, Route53Port } from '../../activities/dns/route53-port';
import { readZoneRecords, type ZoneReadProgress } from '../../activities/dns/zone-records';
import {
  describeSet,
  diffRecords,
  LISTED_RECORDS,
  plannedDnsChanges,
  upsertOf,
  type RecordDiff,
} from './planned-changes';
import type {
  DnsRecordChange,
  DnsRecordState,
  DnsSwitchActivities,
  DnsSwitchInput,
  DnsUndo,
  PartlySwitchedDetails,
} from './definition';

export interface DnsActivityDeps {
  route53: Route53Port;
  /** Intervals for waiting on a change and on resolution. Default: `DNS_WAIT_POLL`. */
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number };
  /** How long the resolution check waits for every name to answer its new value after INSYNC. Default 30 s. */
  resolutionTimeoutMs?: number;
  /**
   * Whether the account's Route 53 budget is spare now for this run (`AwsPacer.hasSpare`: half full, nobody
   * waiting, at most `QUICK_POLLING_OTHERS` other runs drawing on it lately): then the first `QUICK_POLLS` polls
   * of a wait stay at its first interval instead of growing it. Without it waits always grow.
   */
  spareBudget?: () => boolean;
  /**
   * How often this run may poll while the budget is not short but shared (`AwsPacer.fairShareIntervalMs`: its even
   * share of the refill with the other runs drawing on it lately; Infinity while short). Without it a shared
   * budget is treated as short.
   */
  fairPollMs?: () => number;
}

/**
 * Waits for INSYNC and for the names to answer their new values start at 25 ms and grow ×1.5 to 5 s (pollUntil's
 * growth and cap). A wait ends at most one interval after the change settled: with pollUntil's 200 ms start a change
 * INSYNC after 300 ms was seen at 500 ms; from 25 ms it is seen at 329 ms. A minute's wait still costs ~24 GetChange
 * calls, paced like every Route 53 call. While this worker's Route 53 bucket is at least half full and at most one
 * other run drew on it lately (`spareBudget`: a lone failover) the first `QUICK_POLLS` polls of a wait stay 25 ms
 * apart, so a change that settles within about half a second is seen within 25 ms; then, or as soon as the bucket
 * is half spent or shared by more runs (an evacuation's services), the interval grows again, and a minute's wait
 * costs at most ~45 GetChange calls.
 * PriorRequestNotComplete keeps its 200 ms start: that retry resends a change.
 */
export const DNS_WAIT_POLL = { initialIntervalMs: 25, maxIntervalMs: 5_000 };

/** How many polls of one wait may stay at the first interval while the budget is spare (~0.5 s at 25 ms). */
export const QUICK_POLLS = 20;

/**
 * How many other runs may have drawn on Route 53 lately for a wait still to poll quickly: two runs' quick polls
 * (2 × `QUICK_POLLS`) fit in the account's burst (50, less the pacer's reserve), so a failover started right after
 * a plan or beside another failover keeps them, and an evacuation's services (many runs) do not.
 */
export const QUICK_POLLING_OTHERS = 1;

/**
 * While Route 53's budget is short (below half, calls waiting, or more runs drawing on it: an evacuation's many
 * switches), a wait for INSYNC first polls this long after the change was sent, and its polls grow from there: one
 * GetChange per change where the change settles within it (the sandbox's 300 ms), ~10 a minute where it takes AWS's
 * usual tens of seconds. Sooner where the budget is only shared, not short, and the run's fair share of the refill
 * (`fairPollMs`) allows it: an evacuation's last few switches.
 */
export const SHORT_BUDGET_INSYNC_POLL_MS = 1_000;

/** A record's state before this run changed it: `[ttl, values]`, or null when it did not exist. */
type Before = [number, string[]] | null;

/**
 * Heartbeat details of a switch. A retry resumes from them: it waits for the changes already submitted instead of
 * sending them again, keeps the values read before this run changed anything (the undo), and goes on reading the
 * zone from the page it had reached.
 */
interface SwitchProgress {
  resume: 'dns.switch';
  zoneId: string;
  phase: 'read' | 'submit' | 'insync' | 'resolution';
  read?: ZoneReadProgress;
  before: Record<string, Before>;
  changes: Array<{ id: string; status: ChangeStatus; records: number }>;
}

/** Heartbeat details of a pre-flight check or a plan reading a zone. */
interface ReadProgress {
  resume: 'dns.read';
  zoneId: string;
  read: ZoneReadProgress;
}

export function activitiesFromPorts(ports: ActivityPorts): DnsSwitchActivities {
  const pacer = ports.pacer;
  return createDnsActivities({
    route53: ports.route53,
    ...(pacer === undefined
      ? {}
      : {
          spareBudget: () =>
            pacer.hasSpare('route53', 'global', 0.5, {
              forRun: currentRunId(),
              others: QUICK_POLLING_OTHERS,
            }),
          fairPollMs: () => pacer.fairShareIntervalMs('route53', 'global', currentRunId()),
        }),
  });
}

export function createDnsActivities({
  route53,
  poll = {},
  resolutionTimeoutMs = 30_000,
  spareBudget,
  fairPollMs,
}: DnsActivityDeps): DnsSwitchActivities {
  const basePoll = { ...DNS_WAIT_POLL, ...poll };
  /** A wait's poll pacing: its own count of quick polls, spent only while the budget is spare. */
  const waitPoll = () => {
    if (spareBudget === undefined) return basePoll;
    let quick = 0;
    const holdInterval = () => {
      if (quick >= QUICK_POLLS || !spareBudget()) return false;
      quick++;
      return true;
    };
    return { ...basePoll, holdInterval };
  };
  /** The zone's current sets of `records`, read page by page (heartbeating, resumable), not record by record. */
  async function readWanted(zoneId: string, labels: string[]): Promise<Map<string, DnsRecordSet>> {
    const previous = resumeFrom<ReadProgress>('dns.read');
    const { sets } = await readZoneRecords(
      route53,
      zoneId,
      new Set(labels),
      previous?.zoneId === zoneId ? previous.read : undefined,
      (read) => heartbeat({ resume: 'dns.read', zoneId, read } satisfies ReadProgress),
    );
    return sets;
  }

  function diff(records: DnsRecordChange[], sets: Map<string, DnsRecordSet>): RecordDiff[] {
    return diffRecords(records, (label) => sets.get(label));
  }

  /** A short or shared budget's first INSYNC poll: the run's fair share of the refill, 25 ms to a second. */
  function sharedBudgetFirstPollMs(): number {
    const fair = fairPollMs?.() ?? Number.POSITIVE_INFINITY;
    return Math.min(SHORT_BUDGET_INSYNC_POLL_MS, Math.max(basePoll.initialIntervalMs, fair));
  }

  /** Polls GetChange until INSYNC, heartbeating the switch's progress with the change's status. */
  async function waitInSync(progress: SwitchProgress, index: number): Promise<void> {
    const change = progress.changes[index];
    if (change === undefined || change.status === 'INSYNC') return;
    progress.phase = 'insync';
    // Many runs share a short budget: a GetChange sent at once finds the change PENDING and spends a token another
    // zone's switch waits for. Then the first poll waits a second (the bucket short: below half, calls waiting),
    // or the run's fair share of the refill where the bucket is only shared, at most a second; the polls grow from
    // there.
    const shortBudget = spareBudget !== undefined && !spareBudget();
    const firstPollMs = shortBudget ? sharedBudgetFirstPollMs() : undefined;
    await pollUntil(
      () => route53.getChange(change.id),
      (state) => state.status === 'INSYNC',
      {
        ...waitPoll(),
        ...(firstPollMs === undefined
          ? {}
          : { firstReadAfterMs: firstPollMs, initialIntervalMs: firstPollMs }),
        describe: (state) => {
          change.status = state.status;
          return progress;
        },
      },
    );
    change.status = 'INSYNC';
    heartbeat(progress);
  }

  /**
   * Submits one batch (`send`). While the zone's previous change (ours or another writer's) is still PENDING
   * Route 53 answers PriorRequestNotComplete: wait and send the same batch again (an UPSERT is idempotent, and a
   * refused batch changed nothing).
   */
  async function submit(
    progress: SwitchProgress,
    send: () => Promise<DnsChange>,
    records: number,
  ): Promise<void> {
    progress.phase = 'submit';
    let interval = poll.initialIntervalMs ?? 200;
    for (;;) {
      try {
        const change = await send();
        progress.changes.push({ id: change.id, status: change.status, records });
        heartbeat(progress);
        return;
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== 'PriorRequestNotComplete') throw error;
        heartbeat(progress);
        await sleep(interval);
        interval = Math.min(Math.round(interval * 1.5), poll.maxIntervalMs ?? 5000);
      }
    }
  }

  /**
   * After INSYNC, reads the zone back page by page and checks every record holds its new value; where the endpoint
   * has TestDNSAnswer, also asks it what one name of each change batch answers (a sample: one call per batch,
   * not per record). Polls until all agree or the resolution timeout passes.
   */
  async function confirmResolution(
    progress: SwitchProgress,
    records: DnsRecordChange[],
    batches: number,
  ): Promise<string> {
    progress.phase = 'resolution';
    const deadline = Date.now() + resolutionTimeoutMs;
    const labels = records.map((r) => recordLabel(r.type, r.name));
    const stride = Math.max(1, Math.ceil(records.length / Math.max(1, batches)));
    const samples = records.filter((_, index) => index % stride === 0);
    let pages = 0;
    let sampled = 0;
    let testDnsAnswer = true;
    const check = async (): Promise<string[]> => {
      sampled = 0;
      const read = await readZoneRecords(route53, progress.zoneId, new Set(labels), undefined, () =>
        heartbeat(progress),
      );
      pages = read.pages;
      const wrong = diff(records, read.sets)
        .filter((d) => d.differs)
        .map(
          (d) =>
            `${d.label} holds ${d.current?.values.join(',') || '(nothing)'}, want ${recordValues(d.record).join(',')}`,
        );
      if (wrong.length > 0 || !testDnsAnswer) return wrong;
      for (const record of samples) {
        const answer = await route53.testDnsAnswer(progress.zoneId, record.name, record.type);
        if (!answer.supported) {
          testDnsAnswer = false;
          break;
        }
        sampled++;
        const values = answer.responseCode === 'NOERROR' || answer.responseCode === '' ? answer.values : [];
        if (!holdsValues(values, recordValues(record), sameRecordValue)) {
          wrong.push(
            `${recordLabel(record.type, record.name)} answers ${values.join(',') || '(nothing)'}, want ${recordValues(record).join(',')}`,
          );
        }
      }
      return wrong;
    };
    const wrong = await pollUntil(check, (w) => w.length === 0 || Date.now() >= deadline, {
      ...waitPoll(),
      describe: () => progress,
    });
    if (wrong.length > 0) {
      throw transientFailure(
        'DnsResolutionMismatch',
        `The change is INSYNC but after ${resolutionTimeoutMs} ms ${wrong.slice(0, 10).join('; ')}${wrong.length > 10 ? ` (and ${wrong.length - 10} more)` : ''}; a retry re-checks, and if it persists look for an overriding record or another writer`,
      );
    }
    const readBack = `zone read back (${pages} page${pages === 1 ? '' : 's'})`;
    return testDnsAnswer && sampled > 0
      ? `${readBack} + TestDNSAnswer on ${sampled} name${sampled === 1 ? '' : 's'}`
      : `${readBack}; the endpoint has no TestDNSAnswer`;
  }

  /**
   * Swaps every record from the state the run read ahead (`expected`) to its new value, without reading the zone:
   * each change batch DELETEs exactly the state read and CREATEs the new one, and Route 53 makes all of a batch's
   * changes or none, so a record that moved since fails its batch whole. The batches go one after another, each
   * waited INSYNC (Route 53 takes a zone's next change only then), each record's undo heartbeated before its batch
   * is sent. A refusal of the first batch means nothing was sent: the step fails with ChangedSinceRead, and the run
   * reads the records again and replaces its undo. A refusal of a later batch (over 500 records) means the batches
   * before it went through: the step fails with PartlySwitched, naming the records switched (their undo is the
   * state read ahead), and the run reads the others again. Returns undefined, having sent nothing, where a swap
   * cannot stand for the run's undo: a record already at its new value or read without values (an alias record,
   * which a DELETE cannot name), or more records than one batch holds in a run that cannot take PartlySwitched
   * (`batched` false: recorded before it); the zone is read and the records UPSERTed instead.
   */
  async function swapAsRead(
    progress: SwitchProgress,
    records: DnsRecordChange[],
    expected: DnsRecordState[],
    batched: boolean,
  ): Promise<RecordDiff[] | undefined> {
    const read = new Map<string, DnsRecordSet>();
    for (const state of expected) {
      if (state.ttl === null) continue;
      if (state.values.length === 0) return undefined;
      read.set(recordLabel(state.type, state.name), {
        name: fqdn(state.name),
        type: state.type,
        ttl: state.ttl,
        values: state.values,
      });
    }
    const readLabels = new Set(expected.map((state) => recordLabel(state.type, state.name)));
    const diffs = diff(records, read);
    if (!diffs.every((d) => d.differs && readLabels.has(d.label))) return undefined;
    const batches = swapBatches(
      diffs.map((d) => ({
        name: fqdn(d.record.name),
        type: d.record.type,
        from: d.current ? { ttl: d.current.ttl, values: d.current.values } : null,
        to: { ttl: d.record.ttl, value: d.record.value, ...valuesIfSeveral(d.record) },
      })),
    );
    // A run recorded before batched swaps cannot take PartlySwitched: over one batch, it reads and UPSERTs.
    if (batches.length > 1 && !batched) return undefined;
    let sent = 0;
    for (const [index, batch] of batches.entries()) {
      const batchDiffs = diffs.slice(sent, sent + batch.length);
      for (const d of batchDiffs)
        progress.before[d.label] = d.current ? [d.current.ttl, d.current.values] : null;
      heartbeat(progress);
      try {
        await submit(
          progress,
          () =>
            route53.swapRecords(
              progress.zoneId,
              batch,
              batchComment(
                batch.map((swap) => ({ name: swap.name, value: swap.to.value, ...valuesIfSeveral(swap.to) })),
                index,
                batches.length,
              ),
            ),
          batch.length,
        );
      } catch (error) {
        if (failureTypeOf(error) !== PermanentFailure.ChangedSinceRead) throw error;
        for (const d of batchDiffs) delete progress.before[d.label];
        heartbeat(progress);
        const refusal = error instanceof Error ? error.message : String(error);
        if (index === 0) {
          throw permanentFailure(
            PermanentFailure.ChangedSinceRead,
            `${refusal}: changed since the run read them (another writer); nothing was sent, and the step reads the records again before switching`,
          );
        }
        throw permanentFailure(
          PermanentFailure.PartlySwitched,
          `${refusal}: changed since the run read them (another writer), in change batch ${index + 1} of ${batches.length}; the ${sent} record(s) of the batches before it were switched, the others not, and the step reads those again before switching them`,
          { switched: Array.from({ length: sent }, (_, i) => i) } satisfies PartlySwitchedDetails,
        );
      }
      await waitInSync(progress, progress.changes.length - 1);
      sent += batch.length;
    }
    return diffs;
  }

  /**
   * Reads the zone (page by page, resuming where an earlier attempt got) and UPSERTs every record not at its new
   * value, recording the undo of each one not recorded yet. On the first attempt, with nothing sent, a record
   * that no longer holds what the run read ahead (`expected`) fails the step with ChangedSinceRead.
   */
  async function readAndUpsert(
    progress: SwitchProgress,
    records: DnsRecordChange[],
    expected: DnsRecordState[] | undefined,
    batched: boolean,
  ): Promise<RecordDiff[]> {
    progress.phase = 'read';
    const labels = records.map((r) => recordLabel(r.type, r.name));
    const { sets } = await readZoneRecords(
      route53,
      progress.zoneId,
      new Set(labels),
      progress.read,
      (read) => {
        progress.read = read;
        heartbeat(progress);
      },
    );
    delete progress.read;
    const diffs = diff(records, sets);
    const differing = diffs.filter((d) => d.differs);
    // Only the first attempt that has sent nothing has provably sent nothing (a later one may follow an attempt
    // that sent a batch and died before its heartbeat said so): only it may refuse and let the run replace the undo.
    if (expected !== undefined && currentAttempt() === 1 && progress.changes.length === 0)
      refuseIfMoved(diffs, expected);
    // A later attempt may follow one that switched some records (a batch whose answer was lost, a worker that
    // died between batches): a record that holds neither the state read ahead nor its new value was moved by
    // another writer (a switch only ever writes new values), and UPSERTing over it would leave the run's undo
    // putting back the state from before the writer. The run reads again instead (PartlySwitched).
    else if (expected !== undefined && batched) refuseIfMovedByAnother(diffs, expected);
    for (const d of differing) {
      if (!(d.label in progress.before))
        progress.before[d.label] = d.current ? [d.current.ttl, d.current.values] : null;
    }
    heartbeat(progress);

    // An earlier attempt sent a change and did not learn its id (it died, or its answer was lost): the records
    // hold their new values, but that change may still be PENDING. Sending them again at those values (an
    // UPSERT changes nothing) gets a change Route 53 accepts only once the earlier one is done, and its INSYNC
    // is waited for like any other.
    const unconfirmed =
      differing.length === 0 && progress.changes.length === 0
        ? diffs.filter((d) => d.label in progress.before)
        : [];
    const batches = changeBatches([...differing, ...unconfirmed].map((d) => upsertOf(d.record)));
    for (const [index, batch] of batches.entries()) {
      await submit(
        progress,
        () => route53.upsertRecords(progress.zoneId, batch, batchComment(batch, index, batches.length)),
        batch.length,
      );
      await waitInSync(progress, progress.changes.length - 1);
    }
    return diffs;
  }

  return {
    checkDnsRecords: (input) =>
      measuredChecks(async () => {
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
        const labels = input.records.map((r) => recordLabel(r.type, r.name));
        let sets: Map<string, DnsRecordSet>;
        try {
          sets = await readWanted(zone.id, labels);
        } catch (error) {
          return [
            ...results,
            { check: `dns ${zone.name}: records readable`, ok: false, message: permanentMessage(error) },
          ];
        }
        const missing = (record: { name: string; type: string }) =>
          `no ${record.type} record ${fqdn(record.name)} in zone ${zone.name}; create it or fix the record name in the runbook`;
        if (input.records.length <= LISTED_RECORDS) {
          input.records.forEach((record, index) => {
            const found = sets.get(labels[index] as string);
            results.push({
              check: `dns ${labels[index]}: exists`,
              ok: found !== undefined,
              message: found ? describeSet(found) : missing(record),
            });
          });
          return results;
        }
        const absent = input.records.filter((_, index) => !sets.has(labels[index] as string));
        results.push({
          check: `dns ${zone.name}: ${input.records.length} records exist`,
          ok: absent.length === 0,
          message:
            absent.length === 0
              ? `all ${input.records.length} records found`
              : `${absent.length} of ${input.records.length} records missing (each listed below)`,
        });
        for (const record of absent) {
          results.push({
            check: `dns ${recordLabel(record.type, record.name)}: exists`,
            ok: false,
            message: missing(record),
          });
        }
        return results;
      }),

    async planDnsSwitch(input): Promise<PlannedChange[]> {
      const zone = await route53.findZone(input.zone);
      assertNoDuplicates(input.records);
      const sets = await readWanted(
        zone.id,
        input.records.map((r) => recordLabel(r.type, r.name)),
      );
      return plannedDnsChanges(diff(input.records, sets), zone.name);
    },

    async readDnsRecords(input): Promise<DnsRecordState[]> {
      const zone = await route53.findZone(input.zone);
      const sets = await readWanted(
        zone.id,
        input.records.map((record) => recordLabel(record.type, record.name)),
      );
      return input.records.map((record) => {
        const found = sets.get(recordLabel(record.type, record.name));
        return {
          name: fqdn(record.name),
          type: record.type,
          ttl: found?.ttl ?? null,
          values: found?.values ?? [],
        };
      });
    },

    switchDns(input: DnsSwitchInput) {
      return runStep(async () => {
        assertNoDuplicates(input.records);
        const zone = await route53.findZone(input.zone);
        const resumed = resumeFrom<SwitchProgress>('dns.switch');
        const progress: SwitchProgress =
          resumed?.zoneId === zone.id
            ? { ...resumed, changes: resumed.changes.map((c) => ({ ...c })) }
            : { resume: 'dns.switch', zoneId: zone.id, phase: 'read', before: {}, changes: [] };

        // An earlier attempt may have submitted changes and died before INSYNC: finish those waits first.
        for (let i = 0; i < progress.changes.length; i++) await waitInSync(progress, i);

        const firstNew = progress.changes.length;
        const batched = input.batchedSwaps === true;
        // The first attempt, given the records as the run read them ahead, reads nothing more: it swaps each
        // record from exactly that state, which Route 53 checks as it applies the batch (a record that moved
        // since fails the whole batch). A later attempt may follow one that sent a batch and died before its
        // heartbeat said so: it reads the zone first, as does a switch whose records are partly switched already.
        const swapped =
          input.expectedBefore !== undefined && currentAttempt() === 1 && firstNew === 0
            ? await swapAsRead(progress, input.records, input.expectedBefore, batched)
            : undefined;
        const diffs =
          swapped ?? (await readAndUpsert(progress, input.records, input.expectedBefore, batched));

        const facts: Record<string, string | number | boolean | null> = {
          zoneId: zone.id,
          zoneName: zone.name,
          records: diffs.length,
          recordsChanged: Object.keys(progress.before).length,
          changeBatches: progress.changes.length,
        };
        if (progress.changes.length > 0) facts.changeId = progress.changes.map((c) => c.id).join(',');
        if (diffs.length <= LISTED_RECORDS) {
          for (const d of diffs) {
            const before = progress.before[d.label];
            const was = before === undefined ? d.current?.values : (before?.[1] ?? undefined);
            const shown = was === undefined ? '(no record)' : was.join(',') || '(empty)';
            facts[d.label] =
              before !== undefined
                ? `${shown} → ${recordValues(d.record).join(',')}`
                : `${shown} (unchanged)`;
          }
        }

        const submittedNow = progress.changes.length - firstNew;
        const changedCount = Object.keys(progress.before).length;
        let summary =
          changedCount === 0
            ? `All ${diffs.length} record(s) in ${zone.name} already hold their desired values; nothing submitted`
            : `Switched ${changedCount} of ${diffs.length} record(s) in ${zone.name} in ${progress.changes.length} change batch(es), INSYNC` +
              (submittedNow < progress.changes.length
                ? ` (${progress.changes.length - submittedNow} sent by an earlier attempt)`
                : '') +
              (diffs.length <= 10
                ? `: ${diffs
                    .filter((d) => d.label in progress.before)
                    .map((d) => `${d.label} → ${recordValues(d.record).join(',')}`)
                    .join(', ')}`
                : '');

        if (input.checkResolution) {
          facts.resolutionCheck = await confirmResolution(
            progress,
            input.records,
            Math.max(1, progress.changes.length),
          );
          summary += '; every name answers its new value';
        }
        return {
          changed: changedCount > 0,
          summary,
          facts,
          ...compensationFor(input, progress.before),
        };
      });
    },
  };
}

/** A change batch's comment naming each record's new value, within Route 53's 256 characters. */
function batchComment(
  changes: Array<{ name: string; value: string }>,
  index: number,
  batches: number,
): string {
  const shown = changes.map((change) => `${change.name} -> ${recordValues(change).join(',')}`).join(', ');
  return `drctl switchDns: ${changes.length} record(s), batch ${index + 1} of ${batches}: ${shown}`.slice(
    0,
    256,
  );
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

/**
 * A switch whose undo the run read ahead: a record that no longer holds what was read moved since (another
 * writer; also one moved to its new value, which the undo would otherwise set back). The recorded undo would put
 * back a stale value, so the switch refuses before anything is sent.
 */
function refuseIfMoved(diffs: RecordDiff[], expected: DnsRecordState[]): void {
  const moved = movedSinceRead(diffs, expected);
  if (moved.length === 0) return;
  throw permanentFailure(
    PermanentFailure.ChangedSinceRead,
    `${listed(
      moved.map(
        ({ diff: d, was }) =>
          `${d.label} holds ${d.current ? describeSet(d.current) : '(no record)'}, read as ${was && was.ttl !== null ? `${was.values.join(',') || '(empty)'} (TTL ${was.ttl})` : '(no record)'}`,
      ),
    )}: changed since the run read ${moved.length === 1 ? 'it' : 'them'} (another writer); nothing was sent, and the step reads the records again before switching`,
  );
}

/**
 * On a later attempt of a switch read ahead: fails PartlySwitched, naming the records at their new values (an
 * earlier attempt may have switched them), when a record not at its new value no longer holds the state read. A
 * record another writer set to exactly its new value counts as switched (the attempt cannot tell, its earlier
 * attempt's last heartbeat may be lost): its undo stays the state read ahead.
 */
function refuseIfMovedByAnother(diffs: RecordDiff[], expected: DnsRecordState[]): void {
  const moved = movedSinceRead(
    diffs.filter((d) => d.differs),
    expected,
  );
  if (moved.length === 0) return;
  const switched = diffs.flatMap((d, index) => (d.differs ? [] : [index]));
  throw permanentFailure(
    PermanentFailure.PartlySwitched,
    `${listed(
      moved.map(({ diff: d }) => `${d.label} holds ${d.current ? describeSet(d.current) : '(no record)'}`),
    )}: changed since the run read ${moved.length === 1 ? 'it' : 'them'} (another writer), found by a later attempt of the switch; ${switched.length === 0 ? 'none holds its new value' : `${switched.length} record(s) hold their new values`}, and the step reads the others again before switching them`,
    { switched } satisfies PartlySwitchedDetails,
  );
}

/** The records of `diffs` that no longer hold the state the run read (`expected`), each with that state. */
function movedSinceRead(
  diffs: RecordDiff[],
  expected: DnsRecordState[],
): Array<{ diff: RecordDiff; was: DnsRecordState | undefined }> {
  const read = new Map(expected.map((state) => [recordLabel(state.type, state.name), state]));
  return diffs
    .map((diff) => ({ diff, was: read.get(diff.label) }))
    .filter(({ diff, was }) => was === undefined || !holds(diff.current, was));
}

/** The first ten of `items`, and how many more. */
function listed(items: string[]): string {
  return `${items.slice(0, 10).join('; ')}${items.length > 10 ? ` (and ${items.length - 10} more)` : ''}`;
}

/** Whether Route 53's set (undefined: no record) is the state read earlier. */
function holds(current: DnsRecordSet | undefined, was: DnsRecordState): boolean {
  if (current === undefined) return was.ttl === null && was.values.length === 0;
  // In any order: Route 53 keeps a set's values in no order a caller can rely on.
  return current.ttl === was.ttl && holdsValues(current.values, was.values, sameRecordValue);
}

/** A permanent fault becomes a failed check; anything retryable propagates so Temporal retries the check. */
function permanentMessage(error: unknown): string {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  throw error;
}

/**
 * The undo of a switch: the records this run changed, back to the values read before (kept in the heartbeat
 * details, so a retry after a crash still knows them). A record that did not exist before cannot be put back by
 * an UPSERT; it is left out and named as irreversible.
 */
function compensationFor(
  input: DnsSwitchInput,
  before: Record<string, Before>,
): { compensation?: DnsUndo | Irreversible } {
  const changed = input.records.filter((r) => recordLabel(r.type, r.name) in before);
  if (changed.length === 0) return {};
  const created = changed.filter((r) => {
    const was = before[recordLabel(r.type, r.name)];
    return was === null || was === undefined || was[1].length === 0;
  });
  if (created.length > 0) {
    return {
      compensation: {
        kind: 'irreversible',
        reason: `${created.map((r) => recordLabel(r.type, r.name)).join(', ')} did not exist before; delete by hand if needed`,
      },
    };
  }
  return {
    compensation: {
      zone: input.zone,
      records: changed.map((r) => {
        const [ttl, values] = before[recordLabel(r.type, r.name)] as [number, string[]];
        return { name: r.name, type: r.type, ttl, value: values[0] ?? '', ...valuesIfSeveral({ values }) };
      }),
    },
  };
}
