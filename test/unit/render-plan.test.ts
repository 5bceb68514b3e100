import { renderPlan } from '../../cli/render';
import type { PlanResult } from '../../workflows/run-types';

const plan = (steps: PlanResult['steps']): PlanResult => ({
  runbookId: 'checks-only',
  steps,
  ready: true,
  failedChecks: 0,
});

test('a ready plan that ran no check says so, not that every check passed', () => {
  const readOnly = renderPlan(
    plan([
      { stepId: 'settle', kind: 'wait', changes: [], checks: [] },
      {
        stepId: 'probe-read',
        kind: 'probe',
        changes: [],
        checks: [],
        note: 'SQL read probe with connection ehr-app',
      },
    ]),
  );
  expect(readOnly).toContain(
    'Verdict: ready (no check to run: this runbook changes nothing, so its run has no pre-flight).',
  );
  expect(readOnly).not.toContain('every check passed');

  const checked = renderPlan(
    plan([
      {
        stepId: 'automatic-preflight',
        kind: 'preflight',
        changes: [],
        checks: [{ check: 'probe ehr-app: connection configured', ok: true, message: 'select 1 answered' }],
      },
    ]),
  );
  expect(checked).toContain('Verdict: ready (every check passed).');
});
