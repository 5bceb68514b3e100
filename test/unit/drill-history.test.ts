import type { Client } from '@temporalio/client';
import { drillHistory } from '../../cli/drill-runs';
import { OUTCOME_KEY } from '../../common/search-attributes';

/** A client whose visibility lists `drills` (newest first, as Temporal lists them), each with its outcome. */
function listing(drills: Array<{ id: string; outcome: string }>): Client {
  const executions = drills.map(({ id, outcome }, index) => ({
    workflowId: id,
    status: { name: 'COMPLETED' },
    startTime: new Date(Date.UTC(2026, 11, 1, 12 - index)),
    typedSearchAttributes: {
      get: (key: { name: string }) => (key.name === OUTCOME_KEY.name ? outcome : undefined),
    },
  }));
  return {
    workflow: {
      list: () =>
        (async function* () {
          yield* executions;
        })(),
    },
  } as unknown as Client;
}

test('GIVEN the newest drills refused or called off WHEN the trend asks for the last 2 measured ones THEN those are skipped before the limit, not counted in it (before: the trend got none)', async () => {
  const client = listing([
    { id: 'drill-5', outcome: 'refused' },
    { id: 'drill-4', outcome: 'called-off' },
    { id: 'drill-3', outcome: 'passed' },
    { id: 'drill-2', outcome: 'failed' },
    { id: 'drill-1', outcome: 'passed' },
  ]);

  const measured = await drillHistory(
    client,
    'ehr-db',
    2,
    (entry) => entry.outcome !== 'refused' && entry.outcome !== 'called-off',
  );

  expect(measured.map((entry) => entry.drillId)).toEqual(['drill-3', 'drill-2']);
  expect((await drillHistory(client, 'ehr-db', 2)).map((entry) => entry.drillId)).toEqual([
    'drill-5',
    'drill-4',
  ]);
});
