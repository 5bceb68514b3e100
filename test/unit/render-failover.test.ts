import { renderFailoverMarkdown } from '../../reports/render-failover';
import type { FailoverResult } from '../../workflows/run-types';

const result: FailoverResult = {
  workflowId: 'failover-lab-db',
  runId: '0193c1d2-7c1e-7a3b-9f4e-2b8d6f0a1c55',
  runbookId: 'lab-db',
  status: 'failed',
  reason: 'INC-1 line one\nline two \u001b[2J',
  initiator: 'alice',
  startedAt: '2026-12-01T03:00:00.000Z',
  endedAt: '2026-12-01T03:00:01.000Z',
  timeline: [
    {
      stepId: 'fence',
      kind: 'database.fence',
      status: 'failed',
      startedAt: '2026-12-01T03:00:00.000Z',
      endedAt: '2026-12-01T03:00:01.000Z',
      attempts: 1,
      providerMs: 0,
      error: { type: 'FenceFailed', message: 'the primary said:\nread-only refused' },
    },
  ],
  totalSteps: 1,
  currentSteps: [],
  awaiting: [],
  operatorActions: [],
};

test('GIVEN a reason and an error of several lines WHEN a failover is reported in Markdown THEN each is on one line, as in the other reports (before: a literal \\n), and no escape byte gets through', () => {
  const markdown = renderFailoverMarkdown(result);
  expect(markdown).toContain('by alice; reason: INC-1 line one line two \\\\x1b\\[2J');
  expect(markdown).toContain('(runbook lab-db, by alice, reason: INC-1 line one line two \\\\x1b\\[2J)');
  expect(markdown).toContain('the primary said: read-only refused');
  expect(markdown).not.toContain('\\\\n');
  expect(markdown).not.toContain('\\n');
  expect(markdown).not.toContain('\u001b');
});
