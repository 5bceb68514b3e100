import { verifyText } from '../../cli/commands/evidence';
import type { VerifyReport } from '../../evidence/verify-chain';

const report = (manifests: number): VerifyReport => ({
  ok: true,
  location: 's3://drctl-evidence',
  root: 'drctl-evidence/default',
  manifests,
  files: manifests * 6,
  ...(manifests === 0 ? {} : { first: 1, last: manifests }),
  entries: [],
  problems: [],
});

test('GIVEN an empty evidence chain WHEN verified THEN it says there was nothing to verify, not "verified"', () => {
  const text = verifyText(report(0));
  // Before: "✔ verified: every file hash, manifest link, …" over 0 manifests.
  expect(text).not.toContain('✔ verified');
  expect(text).toContain('– nothing to verify: the chain holds no bundle there');
});

test('GIVEN a chain of bundles that all hold WHEN verified THEN it says verified', () => {
  expect(verifyText(report(3))).toContain('sequences 1–3, 3 manifest(s) and 18 file(s) checked\n✔ verified');
});

test('GIVEN runs Temporal shows closed without a bundle WHEN verified THEN each is a problem, the first 20 listed and the rest counted', () => {
  const unbundled = Array.from({ length: 22 }, (_, index) => ({
    workflowId: 'failover-ehr-db',
    runId: `run-${index}`,
    workflowType: 'failoverWorkflow',
    status: 'TERMINATED',
    outcome: null,
    closedAt: `2026-12-01T04:${String(10 + index).padStart(2, '0')}:00.000Z`,
    hint: 'it was terminated',
  }));
  const text = verifyText({
    ...report(3),
    ok: false,
    runs: { from: '2026-12-01T04:00:00.000Z', checked: 25, unbundled, pending: [] },
  });
  expect(text).toContain(
    '25 closed failover(s) and drill(s) in Temporal since 2026-12-01T04:00:00.000Z compared with the chain',
  );
  expect(text).toContain('✖ 22 problem(s):');
  expect(text).toContain(
    '  ✖ [unbundled-run] failoverWorkflow failover-ehr-db run run-0, closed TERMINATED at 2026-12-01T04:10:00.000Z, has no bundle: it was terminated',
  );
  expect(text).not.toContain('run run-20,');
  expect(text).toContain(
    '  … and 2 more run(s) without a bundle, the newest closed at 2026-12-01T04:31:00.000Z',
  );
});

test('GIVEN every closed run bundled WHEN verified THEN it says so; Temporal out of reach is said too, and the chain stands', () => {
  const covered = verifyText({ ...report(3), runs: { from: null, checked: 3, unbundled: [], pending: [] } });
  expect(covered).toContain(
    '✔ verified: every file hash, manifest link, signature, sequence and retention holds, and every run compared has its bundle',
  );
  const unreachable = verifyText({
    ...report(3),
    runs: { notCompared: 'Temporal at 127.0.0.1:7233 cannot be reached' },
  });
  expect(unreachable).toContain(
    "⚠ Temporal's closed runs were not compared with the chain: Temporal at 127.0.0.1:7233 cannot be reached (--chain-only skips this)",
  );
  expect(unreachable).toMatch(
    /✔ verified: every file hash, manifest link, signature, sequence and retention holds$/,
  );
});
