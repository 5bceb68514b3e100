import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';

/**
 * The evidence's history.json and the replay fixtures are the SDK's proto3 JSON of a history. It works with one
 * protobufjs in the tree (drctl depends on the one @temporalio/proto and /common use); with two copies it threw
 * "type must be a Type" and drctl kept a module of its own.
 */

const history = proto.temporal.api.history.v1.History.fromObject({
  events: [
    {
      eventId: 1,
      eventTime: { seconds: 1795770000, nanos: 123000000 },
      eventType: 1, // EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'failoverWorkflow' },
        taskQueue: { name: 'drctl', kind: 1 },
        input: {
          payloads: [
            { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"runbook":{}}') },
          ],
        },
      },
    },
  ],
});

test('GIVEN a history WHEN exported THEN it is the proto3 JSON the temporal CLI writes', () => {
  const json = historyToJSON(history);
  const parsed = JSON.parse(json) as { events: Array<Record<string, unknown>> };
  expect(parsed.events[0]).toMatchObject({
    eventId: '1',
    eventTime: '2026-11-27T09:00:00.123Z',
    eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
    workflowExecutionStartedEventAttributes: {
      workflowType: { name: 'failoverWorkflow' },
      taskQueue: { name: 'drctl', kind: 'TASK_QUEUE_KIND_NORMAL' },
      input: { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') } }] },
    },
  });
  expect(json).toContain(`"data": "${Buffer.from('{"runbook":{}}').toString('base64')}"`);
});

test('GIVEN the exported JSON WHEN read back THEN it is the same history', () => {
  const back = proto.temporal.api.history.v1.History.fromObject(
    historyFromJSON(JSON.parse(historyToJSON(history))),
  );
  expect(proto.temporal.api.history.v1.History.toObject(back, { longs: String, bytes: String })).toEqual(
    proto.temporal.api.history.v1.History.toObject(history, { longs: String, bytes: String }),
  );
});
