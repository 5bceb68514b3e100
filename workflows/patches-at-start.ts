import { patched } from '@temporalio/workflow';
import { BUNDLED_PATCHES, decideBundle, decidePatch, predatesPatch } from './patch-bundle';
import {
  DNS_PLAN_READS_ONCE_PATCH,
  DNS_RETRY_MERGES_UNDO_PATCH,
  DNS_SWAPS_IN_BATCHES_PATCH,
  DNS_UNDO_ONLY_WHAT_IT_SWITCHED_PATCH,
} from '../kinds/dns-switch/definition';
import { UNPLANNED_FENCE_UNDO_PATCH } from '../kinds/database-fence/definition';
import { STEP_KIND_NAMES, stepKind } from '../kinds/registry';
import {
  DRILL_CALLED_OFF_OUTCOME_PATCH,
  DRILL_RELEASES_RECORDED_PATCH,
  DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH,
} from './drill';
import { EVACUATION_DRILL_RELEASES_RECORDED_PATCH } from './evacuation-drill';
import {
  ABORTED_ONLY_IF_IT_STOPPED_PATCH,
  DRILL_GONE_PATCH,
  ENDS_AFTER_ITS_WATCHES_PATCH,
  LOCKS_FIRST_PATCH,
  PASSES_SETTLE_PATCH,
  RELEASES_RECORDED_PATCH,
  WAVES_STAY_ORDERED_PATCH,
} from './evacuation';
import {
  LEDGER_PASSES_FAILED_WRITE_PATCH,
  LEDGER_WAIT_BACKOFF_PATCH,
  LOCAL_EVIDENCE_REQUEST_PATCH,
} from './evidence-ledger';
import {
  FOLLOW_UP_CHECKS_ITS_FAILOVER_PATCH,
  FOLLOW_UP_CHECKS_ITS_PREDECESSOR_PATCH,
  FOLLOW_UP_EVIDENCE_PATCH,
} from './fence-follow-up';
import {
  NOT_RELEASED_OUTCOME_PATCH,
  REFUSED_START_BUNDLED_PATCH,
  VERIFIED_INITIATOR_PATCH,
} from './failover';
import { TEMPORAL_CANCEL_ABORTS_PATCH } from './child-cancellation';
import { READS_WHILE_HELD_PATCH } from './held-reads';
import { CHECKS_ONCE_PATCH, PROMPT_REPLAN_PATCH } from './plan';
import {
  AUTH_READS_AT_ONCE_PATCH,
  LOCAL_AUTH_READS_PATCH,
  SCHEDULED_START_CONFIRMED_PATCH,
  START_CANCEL_STAYS_CANCEL_PATCH,
  START_USED_ONCE_PATCH,
} from './run-authority';
import { SIGNED_RUN_PATCH } from './failover-run';
import { GROUP_READ_AHEAD_PATCH, LOCAL_STEP_READS_PATCH, READ_AHEAD_PATCH } from './step-actions';

/** Runs that began after this decide every patch in their first workflow task (`decidePatchesAtStart`). */
export const PATCHES_AT_START_PATCH = 'patches-decided-at-start';

/**
 * Every change id the workflow code asks `patched()` about, the step kinds' read-ahead patches included. A
 * function, not a constant: the workflows import this module and it imports theirs, so their ids are read when a
 * run starts, once every module is loaded.
 */
export function everyPatch(): string[] {
  return [
    LOCAL_AUTH_READS_PATCH,
    SCHEDULED_START_CONFIRMED_PATCH,
    START_USED_ONCE_PATCH,
    LOCAL_STEP_READS_PATCH,
    READ_AHEAD_PATCH,
    GROUP_READ_AHEAD_PATCH,
    LOCAL_EVIDENCE_REQUEST_PATCH,
    FOLLOW_UP_EVIDENCE_PATCH,
    READS_WHILE_HELD_PATCH,
    LOCKS_FIRST_PATCH,
    RELEASES_RECORDED_PATCH,
    DRILL_RELEASES_RECORDED_PATCH,
    DRILL_STOPS_WITH_ITS_HELD_RUN_PATCH,
    DRILL_CALLED_OFF_OUTCOME_PATCH,
    EVACUATION_DRILL_RELEASES_RECORDED_PATCH,
    PROMPT_REPLAN_PATCH,
    CHECKS_ONCE_PATCH,
    UNPLANNED_FENCE_UNDO_PATCH,
    DNS_UNDO_ONLY_WHAT_IT_SWITCHED_PATCH,
    DNS_RETRY_MERGES_UNDO_PATCH,
    DNS_SWAPS_IN_BATCHES_PATCH,
    NOT_RELEASED_OUTCOME_PATCH,
    REFUSED_START_BUNDLED_PATCH,
    AUTH_READS_AT_ONCE_PATCH,
    PASSES_SETTLE_PATCH,
    DRILL_GONE_PATCH,
    WAVES_STAY_ORDERED_PATCH,
    ...STEP_KIND_NAMES.flatMap((name) => stepKind(name).readAheadPatch ?? []),
    // Since the bundle (patch-bundle.ts), each decided on its own:
    TEMPORAL_CANCEL_ABORTS_PATCH,
    LEDGER_WAIT_BACKOFF_PATCH,
    LEDGER_PASSES_FAILED_WRITE_PATCH,
    VERIFIED_INITIATOR_PATCH,
    SIGNED_RUN_PATCH,
    DNS_PLAN_READS_ONCE_PATCH,
    FOLLOW_UP_CHECKS_ITS_FAILOVER_PATCH,
    FOLLOW_UP_CHECKS_ITS_PREDECESSOR_PATCH,
    START_CANCEL_STAYS_CANCEL_PATCH,
    ENDS_AFTER_ITS_WATCHES_PATCH,
    ABORTED_ONLY_IF_IT_STOPPED_PATCH,
  ];
}

/**
 * The first thing every workflow does: decides every patch at once, so that each patch's marker is in the run's
 * first workflow task. A patch asked about later, after a local activity, is where replay could not follow: live,
 * Temporal's core may hand the workflow a local activity's answer in a workflow task of its own (the task that
 * recorded the answer completes and a new one is forced), while replay hands it over in the task that recorded
 * it. The code after the answer then runs one task earlier on replay, asks `patched()` before that task's marker
 * is in view, is told no, and meets the marker later: a nondeterminism error, and the run stuck for every new
 * worker (an evacuation's failover, released by its parent's memo read, after its worker was killed). The first
 * task has no answer before it. Runs that began before this keep asking as they go (`patched()` is false here
 * for them). Runs since `PATCHES_BUNDLED_PATCH` record one marker for the bundled patches and one for each patch
 * added after it; the workflow code asks `hasPatch()`, never `patched()`.
 */
export function decidePatchesAtStart(): void {
  if (decideBundle()) {
    for (const id of everyPatch()) if (!BUNDLED_PATCHES.has(id)) decidePatch(id);
    return;
  }
  if (!patched(PATCHES_AT_START_PATCH)) {
    // Its code asks about the bundled patches as it goes, as it always did; a patch added since is no, wherever
    // asked (asked live mid-run, `patched()` would say yes and record a marker where replay cannot follow).
    for (const id of everyPatch()) if (!BUNDLED_PATCHES.has(id)) predatesPatch(id);
    return;
  }
  for (const id of everyPatch()) decidePatch(id);
}
