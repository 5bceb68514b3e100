/**
 * `hasPatch` against Temporal's own rule for `patched(id)` (@temporalio/workflow's patchInternal): true when the
 * run executes live, or on replay when the id's marker is in the history; each id's marker is sent once per run.
 * A marker sent after a run's first task where its history has none is what a later replay cannot follow.
 */
const mockRun = {
  replaying: true,
  history: new Set<string>(),
  /** Markers the history holds after its first workflow task (an older worker asked mid-run, live). */
  later: new Set<string>(),
  /** Whether replay has reached past the first task (the `later` markers are then known). */
  pastFirstTask: false,
  sent: new Set<string>(),
  /** Markers sent while live that the history does not hold: new commands. */
  added: [] as string[],
};

jest.mock('@temporalio/workflow', () => ({
  ...jest.requireActual<object>('@temporalio/workflow'),
  workflowInfo: () => ({ unsafe: { isReplaying: mockRun.replaying } }),
  patched: (id: string): boolean => {
    const recorded = mockRun.history.has(id) || (mockRun.pastFirstTask && mockRun.later.has(id));
    const use = !mockRun.replaying || recorded;
    if (use && !mockRun.sent.has(id)) {
      mockRun.sent.add(id);
      if (!recorded) mockRun.added.push(id);
    }
    return use;
  },
}));

type Modules = {
  start: typeof import('../../workflows/patches-at-start');
  bundle: typeof import('../../workflows/patch-bundle');
};

/** The workflow modules as one run sees them: its own module state, as the worker gives each run. */
function freshRun(replaying: boolean, history: string[], later: string[] = []): Modules {
  Object.assign(mockRun, {
    replaying,
    history: new Set(history),
    later: new Set(later),
    pastFirstTask: false,
    sent: new Set(),
    added: [],
  });
  let modules: Modules | undefined;
  jest.isolateModules(() => {
    modules = {
      start: jest.requireActual('../../workflows/patches-at-start'),
      bundle: jest.requireActual('../../workflows/patch-bundle'),
    };
  });
  return modules as Modules;
}

test('GIVEN a run begun with every patch decided at its start WHEN it goes on live on this worker THEN it records no marker after its first task (before: the bundle, mid-run)', () => {
  const { start, bundle } = freshRun(true, [
    'patches-decided-at-start',
    ...freshRun(false, []).start.everyPatch(),
  ]);
  start.decidePatchesAtStart();
  mockRun.replaying = false; // the history ends here: the run goes on live
  for (const id of start.everyPatch()) expect(bundle.hasPatch(id)).toBe(true);
  expect(mockRun.added).toEqual([]);
});

test('GIVEN a run begun before patches were decided at the start WHEN it replays and goes on live THEN no patch is asked about at the start, and each is asked where the code reaches it', () => {
  const { start, bundle } = freshRun(true, []);
  start.decidePatchesAtStart();
  expect(mockRun.sent.size).toBe(0);
  expect(bundle.hasPatch('dns-swaps-in-batches')).toBe(false);
  mockRun.replaying = false;
  expect(bundle.hasPatch('dns-swaps-in-batches')).toBe(true);
  expect(mockRun.added).toEqual(['dns-swaps-in-batches']);
});

test('GIVEN a new run THEN its first task records the bundle and each patch added since, and every bundled patch holds without a marker of its own', () => {
  const { start, bundle } = freshRun(false, []);
  start.decidePatchesAtStart();
  const since = start.everyPatch().filter((id) => !bundle.BUNDLED_PATCHES.has(id));
  expect(since).toContain('temporal-cancel-aborts');
  expect(mockRun.added).toEqual(['patches-bundled-2026-12', ...since]);
  for (const id of bundle.BUNDLED_PATCHES) expect(bundle.hasPatch(id)).toBe(true);
  for (const id of since) expect(bundle.hasPatch(id)).toBe(true);
  expect(mockRun.added).toEqual(['patches-bundled-2026-12', ...since]);
});

test('GIVEN a run that recorded the bundle WHEN it is replayed THEN it takes the same paths and sends no new marker', () => {
  const { start, bundle } = freshRun(true, ['patches-bundled-2026-12']);
  start.decidePatchesAtStart();
  for (const id of bundle.BUNDLED_PATCHES) expect(bundle.hasPatch(id)).toBe(true);
  expect(mockRun.added).toEqual([]);
});

test('GIVEN a run that recorded the bundle before a later patch existed WHEN it replays and goes on live THEN that patch stays as its first task decided it: no, with no marker mid-run (before: yes, its marker recorded where replay cannot follow)', () => {
  // The history of a run begun when `temporal-cancel-aborts` did not exist: the bundle's marker alone.
  const { start, bundle } = freshRun(true, ['patches-bundled-2026-12']);
  start.decidePatchesAtStart();
  mockRun.replaying = false; // the history ends here: the run goes on live, then starts a child
  expect(bundle.hasPatch('temporal-cancel-aborts')).toBe(false);
  expect(mockRun.added).toEqual([]);
});

test('GIVEN a run begun before patches were decided at the start WHEN it replays and goes on live THEN a patch added since the bundle is no wherever asked, with no marker (before: yes mid-run, its marker where replay cannot follow)', () => {
  const { start, bundle } = freshRun(true, []);
  start.decidePatchesAtStart();
  mockRun.replaying = false;
  expect(bundle.hasPatch('temporal-cancel-aborts')).toBe(false);
  expect(mockRun.added).toEqual([]);
});

test('GIVEN a run an older worker let record a later patch mid-run (live, before patches were kept from the start) WHEN it is replayed THEN it takes the patched path where its history has the marker, and keeps it once live', () => {
  // Before: told no there (the first task's answer), it took the old path where its history had the new one.
  const { start, bundle } = freshRun(true, ['patches-bundled-2026-12'], ['temporal-cancel-aborts']);
  start.decidePatchesAtStart();
  mockRun.pastFirstTask = true;
  expect(bundle.hasPatch('temporal-cancel-aborts')).toBe(true);
  mockRun.replaying = false;
  expect(bundle.hasPatch('temporal-cancel-aborts')).toBe(true);
  expect(mockRun.added).toEqual([]);
});
