import { renderSummary } from '../../cli/render';
import { NOT_RELEASED_ERROR, runOutcome } from '../../workflows/run-outcome';
import type { FailoverResult, TimelineEntry } from '../../workflows/run-types';

const entry = (stepId: string, error?: string): TimelineEntry => ({
  stepId,
  kind: stepId === 'hold' ? 'hold' : 'wait',
  status: error === undefined ? 'succeeded' : 'failed',
  startedAt: '2026-12-01T03:00:00.000Z',
  endedAt: '2026-12-01T03:00:01.000Z',
  attempts: 1,
  providerMs: 0,
  ...(error === undefined ? {} : { error: { type: error, message: `${error}; nothing was changed` } }),
});

const run = (status: FailoverResult['status'], timeline: TimelineEntry[]): FailoverResult => ({
  workflowId: 'failover-lab-db',
  runId: '0193c1d2-7c1e-7a3b-9f4e-2b8d6f0a1c55',
  runbookId: 'lab-db',
  status,
  reason: 'evacuation-us-east-1: INC-1',
  initiator: 'alice',
  startedAt: '2026-12-01T03:00:00.000Z',
  endedAt: '2026-12-01T03:00:01.000Z',
  timeline,
  totalSteps: timeline.length,
  currentSteps: [],
  awaiting: [],
  operatorActions: [],
});

test('GIVEN a failover held under its lock and never released THEN its outcome is not-released, in status too', () => {
  const held = run('failed', [entry('hold', NOT_RELEASED_ERROR)]);
  expect(runOutcome(held)).toBe('not-released');
  expect(renderSummary(held)).toMatch(/^failover-lab-db: not-released in 1(\.0)?s \(runbook lab-db/);
});

test('GIVEN a failover that failed at a step, or succeeded THEN its outcome is its status', () => {
  expect(runOutcome(run('failed', [entry('fence', 'FenceFailed')]))).toBe('failed');
  expect(runOutcome(run('failed', [entry('hold'), entry('fence', NOT_RELEASED_ERROR)]))).toBe('failed');
  expect(runOutcome(run('succeeded', [entry('fence')]))).toBe('succeeded');
  expect(renderSummary(run('failed', [entry('fence', 'FenceFailed')]))).toMatch(
    /^failover-lab-db: failed in/,
  );
});
