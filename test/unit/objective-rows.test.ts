import { objectiveRow, verdictLabel } from '../../reports/objective-rows';
import type { DrillResult } from '../../workflows/drill-types';

/** What every drill report shows for an objective the drill said it could not measure. */
test('GIVEN an RPO verdict marked not measured WHEN reported THEN it is N/A, not FAIL', () => {
  const result = {
    objectives: { rto: '15m', rpo: '1m', rtoMs: 900_000, rpoMs: 60_000 },
    measured: { rtoMs: 2_000, rpoMs: null },
    verdicts: [
      { objective: 'RTO', targetMs: 900_000, measuredMs: 2_000, marginMs: 898_000, passed: true },
      {
        objective: 'RPO',
        targetMs: 60_000,
        measuredMs: null,
        marginMs: null,
        passed: false,
        notMeasured: 'no connection to the RDS primary (primary.connection)',
      },
    ],
  } as unknown as DrillResult;
  const rpo = objectiveRow(result, 'RPO');
  expect(rpo.passed).toBeNull();
  expect(verdictLabel(rpo.passed)).toBe('N/A');
  expect(verdictLabel(objectiveRow(result, 'RTO').passed)).toBe('PASS');
});
