import { patched, workflowInfo } from '@temporalio/workflow';

/**
 * One change id that stands for every patch below. Each `patched()` a run asks about records a marker and makes
 * Temporal's core upsert the `TemporalChangeVersion` search attribute: 28 of each in every run's first workflow
 * task (56 of a complete failover's 139 events), and a visibility write on the server for each. Runs since this id
 * record it alone; runs before it replay their own markers (`hasPatch`).
 */
export const PATCHES_BUNDLED_PATCH = 'patches-bundled-2026-12';

/**
 * The patches every run since `PATCHES_BUNDLED_PATCH` has. Frozen: a patch added later is decided on its own, in
 * `everyPatch()`, and never joins this list (runs that recorded the bundle before it did not have it).
 */
export const BUNDLED_PATCHES: ReadonlySet<string> = new Set([
  'auth-reads-as-local-activities',
  'step-reads-as-local-activities',
  'read-ahead-while-the-step-before-runs',
  'read-ahead-into-parallel-groups',
  'evidence-request-as-local-activity',
  'fence-follow-up-bundled',
  'reads-while-held',
  'evacuation-takes-every-lock-first',
  'held-failover-releases-recorded',
  'drill-records-its-release',
  'drill-stops-when-its-held-failover-ends',
  'drill-called-off-outcome',
  'evacuation-drill-records-its-release',
  'plan-again-as-soon-as-earlier-steps-are-planned',
  'plan-makes-each-check-once',
  'fence-records-an-unplanned-fence',
  'dns-undo-only-what-it-switched',
  'dns-retry-merges-undo',
  'dns-swaps-in-batches',
  'not-released-outcome',
  'refused-start-requests-evidence',
  'auth-reads-at-once',
  'evacuation-passes-settle',
  'evacuation-drill-gone',
  'evacuation-waves-stay-ordered',
  'database-fence-plan-read-ahead',
  'database-promote-plan-read-ahead',
]);

/**
 * Whether this run recorded the bundle, decided once in its first workflow task (`decideBundle`). Module state is
 * the run's own: the worker gives each workflow run its own module cache (only `WORKFLOW_CODE.preloadModules`
 * are shared, and this module must never be one of them).
 */
let bundled = false;

/**
 * Asks about the bundle: only `decidePatchesAtStart`, in a run's first workflow task. Asked later, in a run begun
 * before the bundle and going on live on this worker, `patched()` would say yes and record the marker mid-run,
 * where replay (which hands a local activity's answer over one task earlier) could not follow.
 */
export function decideBundle(): boolean {
  bundled = patched(PATCHES_BUNDLED_PATCH);
  return bundled;
}

/** The answers `decidePatchesAtStart` got in the run's first task, kept for the rest of the run. */
const decidedAtStart = new Map<string, boolean>();

/**
 * Asks about a patch and keeps the answer: only `decidePatchesAtStart`, in a run's first workflow task. A run begun
 * before the patch existed is told no there, on replay, and keeps that answer when it goes on live: asked again
 * later, `patched()` would say yes and record the marker mid-run, where replay could not follow.
 */
export function decidePatch(id: string): boolean {
  const answer = patched(id);
  decidedAtStart.set(id, answer);
  return answer;
}

/**
 * Pins a patch to no for the rest of the run, without asking: a run begun before patches were decided at its start
 * began before every patch added since the bundle.
 */
export function predatesPatch(id: string): void {
  decidedAtStart.set(id, false);
}

/**
 * `patched(id)` for workflow code: true for a bundled patch in a run that recorded the bundle at its start; else
 * the answer its first task had, for the patches decided there; else what `patched(id)` says (runs begun before
 * patches were decided at the start ask about each patch as they always did).
 *
 * A run told no at its start never records the marker later while live. On replay it still follows its history:
 * an older worker, which asked `patched()` wherever the code did, may have recorded the marker mid-run, and the run
 * took the patched path there (and keeps it from then on).
 */
export function hasPatch(id: string): boolean {
  if (bundled && BUNDLED_PATCHES.has(id)) return true;
  const decided = decidedAtStart.get(id);
  if (decided === undefined) return patched(id);
  if (decided || !workflowInfo().unsafe.isReplaying || !patched(id)) return decided;
  decidedAtStart.set(id, true);
  return true;
}
