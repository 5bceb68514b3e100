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

test('the steps of a parallel group are numbered under their group, which says how many run at once', () => {
  const group = { group: 'prepare', groupTitle: 'Degrade and check' };
  const rendered = renderPlan(
    plan([
      { stepId: 'checks', kind: 'preflight', changes: [], checks: [] },
      {
        stepId: 'flags-on',
        kind: 'flags.set',
        ...group,
        changes: [{ target: 'flag degraded', current: 'off', desired: 'on', willChange: true }],
        checks: [],
      },
      { stepId: 'backups', kind: 'backups.verify', ...group, changes: [], checks: [], note: 'checked' },
      { stepId: 'fence', kind: 'database.fence', changes: [], checks: [] },
    ]),
  );

  expect(rendered.split('\n').slice(1, 7)).toEqual([
    ' 1. checks [preflight]',
    ' 2. prepare [parallel] Degrade and check: 2 steps at once',
    '    2.1 flags-on [flags.set]',
    '        change flag degraded: off → on',
    '    2.2 backups [backups.verify]',
    '        checked',
  ]);
  expect(rendered.split('\n')[7]).toBe(' 3. fence [database.fence]');
});

test("from group 10 on, a member's details still start under its id", () => {
  const singles = Array.from({ length: 9 }, (_, i) => ({
    stepId: `wait-${i}`,
    kind: 'wait',
    changes: [],
    checks: [],
  }));
  const member = (stepId: string) => ({
    stepId,
    kind: 'wait',
    group: 'settle',
    changes: [],
    checks: [],
    note: `${stepId} waits`,
  });
  const lines = renderPlan(plan([...singles, member('a'), member('b')])).split('\n');

  expect(lines.slice(10, 14)).toEqual([
    '10. settle [parallel]: 2 steps at once',
    '    10.1 a [wait]',
    '         a waits',
    '    10.2 b [wait]',
  ]);
});
