import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { fetchDrillResult } from '../../cli/drill-runs';
import { CliError } from '../../cli/cli-error';

/** A client whose drill run ended failed with this cause, as Temporal's client raises it. */
function endedWith(cause: Error): Client {
  return {
    workflow: {
      getHandle: () => ({
        result: async () => {
          throw new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);
        },
      }),
    },
  } as unknown as Client;
}

async function failureOf(client: Client): Promise<CliError> {
  return fetchDrillResult(client, 'drill-x', 'copy').then(
    () => {
      throw new Error('a result');
    },
    (error: CliError) => error,
  );
}

describe("a drill's result when it has none", () => {
  it('GIVEN the worker refused its start THEN exit 4: refused, nothing injected (before: exit 1, "a failure it injected may still be in effect")', async () => {
    const error = await failureOf(
      endedWith(
        ApplicationFailure.nonRetryable('this signed start already started run first', 'NotAuthorized'),
      ),
    );
    expect({ code: error.code, exitCode: error.exitCode, message: error.message }).toEqual({
      code: 'DrillRefused',
      exitCode: 4,
      message:
        'drill-x (run copy) was refused at its start, so nothing was injected or measured and there is no report: this signed start already started run first',
    });
  });

  it('GIVEN it failed after its start THEN exit 1, warning that an injected failure may still be in effect', async () => {
    const error = await failureOf(
      endedWith(ApplicationFailure.nonRetryable('the injection command failed', 'Failed')),
    );
    expect({ code: error.code, exitCode: error.exitCode }).toEqual({
      code: 'DrillEndedWithoutResult',
      exitCode: 1,
    });
    expect(error.message).toContain('a failure it injected may still be in effect');
  });
});
