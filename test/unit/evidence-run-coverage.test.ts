import { runCoverage, type ClosedRun } from '../../evidence/run-coverage';

/**
 * `drctl evidence verify` compares the chain with the runs Temporal shows closed: the chain alone proves what it
 * holds, not that it holds every run (before: a ledger that wrote nothing, or a run terminated before it asked
 * for its bundle, still left the chain "verified").
 */
const NOW = new Date('2026-12-01T05:00:00Z');

function closed(runId: string, overrides: Partial<ClosedRun> = {}): ClosedRun {
  return {
    workflowId: 'failover-ehr-db',
    runId,
    workflowType: 'failoverWorkflow',
    status: 'COMPLETED',
    outcome: 'succeeded',
    closedAt: '2026-12-01T04:00:00.000Z',
    ...overrides,
  };
}

const DRILL = { workflowId: 'drill-ehr-db-20261201-040000-abc123', runId: 'drill-run' };
const base = {
  from: '2026-12-01T03:00:00.000Z',
  queued: new Set<string>() as ReadonlySet<string> | { unread: string },
  now: NOW,
  drillOf: async () => undefined,
};

test('GIVEN every closed run named by a verified manifest WHEN compared THEN none is missing', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [closed('a'), closed('b')],
    named: new Set(['a', 'b']),
  });
  expect(coverage).toEqual({ from: base.from, checked: 2, unbundled: [], pending: [] });
});

test('GIVEN a run no manifest names WHEN compared THEN it is missing, with what to check', async () => {
  const coverage = await runCoverage({ ...base, closed: [closed('a'), closed('b')], named: new Set(['a']) });
  expect(coverage.unbundled.map((run) => run.runId)).toEqual(['b']);
  expect(coverage.unbundled[0]?.hint).toMatch(
    /the ledger did not write it: check `drctl status drctl-evidence-ledger`/,
  );
});

test('GIVEN a terminated run, a timed-out one and a refused one WHEN compared THEN each says why and what to keep', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [
      closed('t', { status: 'TERMINATED', outcome: null }),
      closed('o', { status: 'TIMED_OUT', outcome: null }),
      closed('r', { status: 'FAILED', outcome: 'refused' }),
    ],
    named: new Set(),
  });
  expect(coverage.unbundled.map((run) => run.hint)).toEqual([
    expect.stringMatching(
      /^it was terminated, and a terminated run never asks for its bundle: bundle it from what Temporal still holds, .*: drctl evidence collect failover-ehr-db --run-id t$/,
    ),
    expect.stringMatching(/^it timed out/),
    expect.stringMatching(
      /^its start was refused; runs refused before drctl bundled refusals asked for none/,
    ),
  ]);
});

test('GIVEN a drill refused at its start (its runbook’s lock held) without a bundle WHEN compared THEN the hint is the ledger’s, not "refused runs asked for none" (a drill asks however it ends)', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [
      closed('d', { workflowId: DRILL.workflowId, workflowType: 'drillWorkflow', outcome: 'refused' }),
    ],
    named: new Set(),
  });
  expect(coverage.unbundled[0]?.hint).toMatch(/^the ledger did not write it/);
});

test('GIVEN a run queued at the ledger and one closed a minute ago WHEN compared THEN both are pending, not missing', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [closed('queued'), closed('recent', { closedAt: '2026-12-01T04:59:00.000Z' })],
    named: new Set(),
    queued: new Set(['queued']),
  });
  expect(coverage.unbundled).toEqual([]);
  expect(coverage.pending.map((run) => run.runId)).toEqual(['queued', 'recent']);
});

test('GIVEN a run terminated a minute ago WHEN compared THEN it is missing at once: it will never ask for its bundle', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [closed('t', { status: 'TERMINATED', outcome: null, closedAt: '2026-12-01T04:59:00.000Z' })],
    named: new Set(),
  });
  expect(coverage.unbundled.map((run) => run.runId)).toEqual(['t']);
});

test('GIVEN part of the chain verified WHEN a run is bundled before that part THEN it is not missing', async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [closed('earlier'), closed('nowhere')],
    named: new Set(),
    bundledOutsideRange: async (runId) => runId === 'earlier',
  });
  expect(coverage.unbundled.map((run) => run.runId)).toEqual(['nowhere']);
});

/** A drill's failover no manifest names, its drill in `status`. */
function drillChildCoverage(status: string) {
  return runCoverage({
    ...base,
    closed: [closed('child', { parent: DRILL })],
    named: new Set(),
    drillOf: async () => ({ ...DRILL, status }),
  });
}

test("GIVEN a drill's failover closed long ago WHEN its drill still runs THEN it is pending: the drill's bundle will name it", async () => {
  const coverage = await drillChildCoverage('RUNNING');
  expect(coverage.pending.map((run) => run.runId)).toEqual(['child']);
  expect(coverage.unbundled).toEqual([]);
});

test("GIVEN a drill's failover WHEN its drill was terminated THEN it is missing, naming the drill whose bundle should hold it", async () => {
  const coverage = await drillChildCoverage('TERMINATED');
  expect(coverage.unbundled[0]?.hint).toMatch(
    new RegExp(
      `^its record belongs in the bundle of its drill ${DRILL.workflowId}, which ended terminated without one`,
    ),
  );
});

test("GIVEN the ledger's queue cannot be read WHEN compared THEN the coverage says so, and a queued run past the grace counts as missing", async () => {
  const coverage = await runCoverage({
    ...base,
    closed: [closed('a')],
    named: new Set(),
    queued: { unread: 'no worker answered within 5 s' },
  });
  expect(coverage.ledgerUnread).toBe('no worker answered within 5 s');
  expect(coverage.unbundled.map((run) => run.runId)).toEqual(['a']);
});
