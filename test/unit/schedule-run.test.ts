import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { createScheduleRunActivities } from '../../activities/runs/schedule-run';

/**
 * A schedule's standing statement holds only for the runs the schedule started: the worker reads the schedule's
 * record (DescribeSchedule) and looks for the run there, allowing for the moment the scheduler records it late.
 */
const THIS_RUN = { workflowId: 'drill-ehr-db-2026-12-02T13:00:00Z', runId: 'run-1' };
const SIGNED_AT = '2026-11-02T09:00:00.000Z';
const CREATED_AT = new Date('2026-11-02T09:00:01.000Z');

function action(workflowId: string, firstExecutionRunId: string) {
  return { type: 'startWorkflow' as const, workflow: { workflowId, firstExecutionRunId } };
}

/** A Temporal client whose schedule `drill-ehr-db` describes as the given reads say, one per call (the last repeats). */
function clientWith(
  reads: Array<Pick<ScheduleDescription['info'], 'runningActions' | 'recentActions'>>,
  createdAt = CREATED_AT,
) {
  let calls = 0;
  const client = {
    schedule: {
      getHandle: (scheduleId: string) => ({
        describe: async () => {
          if (scheduleId !== 'drill-ehr-db')
            throw new ScheduleNotFoundError('schedule not found', scheduleId);
          const info = { ...reads[Math.min(calls, reads.length - 1)], createdAt };
          calls += 1;
          return { scheduleId, info } as unknown as ScheduleDescription;
        },
      }),
    },
  } as unknown as Client;
  return { client, calls: () => calls };
}

const confirm = (client: Client, scheduleId = 'drill-ehr-db') =>
  createScheduleRunActivities({ temporal: client }, { recordLagAllowanceMs: 1_000 }).confirmScheduledRun({
    scheduleId,
    ...THIS_RUN,
    signedAt: SIGNED_AT,
  });

test('a run the schedule names among its running actions is confirmed', async () => {
  const { client } = clientWith([
    { runningActions: [action(THIS_RUN.workflowId, 'run-1')], recentActions: [] },
  ]);
  expect(await confirm(client)).toEqual({ startedBySchedule: true });
});

test('a run the schedule records only after a moment is confirmed once it does', async () => {
  const later = {
    scheduledAt: new Date(),
    takenAt: new Date(),
    action: action(THIS_RUN.workflowId, 'run-1'),
  };
  const { client, calls } = clientWith([
    { runningActions: [], recentActions: [] },
    { runningActions: [], recentActions: [later] },
  ]);
  expect(await confirm(client)).toEqual({ startedBySchedule: true });
  expect(calls()).toBe(2);
});

test('a run under the same workflow id but another run id, or another id, is not confirmed', async () => {
  const { client } = clientWith([
    {
      runningActions: [action(THIS_RUN.workflowId, 'run-0'), action('drill-ehr-db-other', 'run-1')],
      recentActions: [],
    },
  ]);
  const answer = await confirm(client);
  expect(answer.startedBySchedule).toBe(false);
  expect(answer.why).toBe(
    "schedule drill-ehr-db's record of the runs it started (2 running or recent) does not name drill-ehr-db-2026-12-02T13:00:00Z run run-1, after 1 s",
  );
});

test('a schedule that does not exist confirms nothing', async () => {
  const { client } = clientWith([{ runningActions: [], recentActions: [] }]);
  expect(await confirm(client, 'drill-gone')).toEqual({
    startedBySchedule: false,
    why: 'schedule drill-gone does not exist (deleted, or never created)',
  });
});

test('a schedule created long after its statement was signed (deleted and created again with it) confirms nothing', async () => {
  const { client } = clientWith(
    [{ runningActions: [action(THIS_RUN.workflowId, 'run-1')], recentActions: [] }],
    new Date('2026-11-20T10:00:00.000Z'),
  );
  expect(await confirm(client)).toEqual({
    startedBySchedule: false,
    why: 'schedule drill-ehr-db was created at 2026-11-20T10:00:00.000Z, not when its statement was signed (2026-11-02T09:00:00.000Z): it is not the schedule the statement created',
  });
});
