import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { followEvacuation } from '../../cli/evacuation-runs';
import type { EvacuationProgress } from '../../evacuations/evacuation-types';

const { EventType } = temporal.api.enums.v1;
const WORKFLOW_ID = 'evacuation-us-east-1-20261204-110350-7b9dc8';

/** The evacuation while its second wave waits for an approval: the state that may stay for hours. */
const gated: EvacuationProgress = {
  workflowId: WORKFLOW_ID,
  evacuationId: 'us-east-1',
  title: 'Evacuate us-east-1',
  status: 'paused',
  reason: 'INC-7001',
  initiator: 'alice',
  startedAt: '2026-12-04T11:03:50.000Z',
  waves: [
    { id: 'databases', state: 'settled', concurrency: 1 },
    { id: 'portal', state: 'awaiting-approval', concurrency: 1 },
  ],
  services: [
    {
      runbookId: 'ehr-db',
      wave: 'databases',
      dependsOn: [],
      state: 'succeeded',
      currentSteps: [],
      stepsDone: 7,
      totalSteps: 7,
    },
    {
      runbookId: 'patient-portal-rds',
      wave: 'portal',
      dependsOn: [],
      state: 'waiting',
      currentSteps: [],
      stepsDone: 0,
      totalSteps: 6,
    },
  ],
  operatorActions: [],
  awaiting: [{ stepId: 'portal', kind: 'approval', prompt: 'approve wave portal', twoPerson: false }],
};

const ended: EvacuationProgress = {
  ...gated,
  status: 'succeeded',
  endedAt: '2026-12-04T11:04:10.000Z',
  waves: gated.waves.map((wave) => ({ ...wave, state: 'settled' })),
  services: gated.services.map((service) => ({ ...service, state: 'succeeded' })),
  awaiting: [],
};

/**
 * A Temporal whose history answers once with the gated evacuation's last workflow task, then with its close; its
 * progress query fails `failedQueries` times first, as Temporal refuses a query while the run's workflow task is
 * under way and another query already waits.
 */
function temporalWith(failedQueries: number): Client {
  const pages = [
    [{ eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED }],
    [{ eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED }],
  ];
  let queries = 0;
  return {
    options: { namespace: 'default' },
    workflowService: {
      getWorkflowExecutionHistory: async () => ({
        history: { events: pages.shift() ?? [] },
        nextPageToken: pages.length > 0 ? Buffer.from('more') : undefined,
      }),
    },
    workflow: {
      getHandle: () => ({
        query: async () => {
          queries += 1;
          if (queries <= failedQueries)
            throw new Error('consistent query buffer is full, cannot accept new queries');
          return gated;
        },
        describe: async () => ({ status: { name: 'COMPLETED' } }),
        result: async () => ended,
      }),
    },
  } as unknown as Client;
}

async function followedLines(client: Client): Promise<string> {
  const written: string[] = [];
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await followEvacuation(client, WORKFLOW_ID, { live: true });
  } finally {
    write.mockRestore();
  }
  return written.join('');
}

const GATE_LINE = `⏸ wave portal waits for an approval: drctl approve ${WORKFLOW_ID} --step portal --reason "…"`;

test('GIVEN an evacuation followed in text WHEN the query after its change to waiting for an approval fails twice THEN the follow asks again and shows the gate and what to run (before: that state was skipped until the next change, the approval)', async () => {
  const text = await followedLines(temporalWith(2));
  expect(text).toContain(GATE_LINE);
  expect(text).toMatch(/patient-portal-rds\s+portal\s.*waiting/);
});

test('GIVEN an evacuation followed in text WHEN the progress query keeps failing THEN the follow still ends with the recorded result', async () => {
  const text = await followedLines(temporalWith(Number.POSITIVE_INFINITY));
  expect(text).not.toContain(GATE_LINE);
  expect(text).toMatch(/patient-portal-rds\s+portal\s.*succeeded/);
});
