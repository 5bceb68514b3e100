import { signStatement } from '../../auth/io/native-ed25519';
import { verifyRunResult } from '../../cli/run-verification';
import { NOW, operatorKeys, RUNBOOK_HASH, statement, testPolicy } from './auth-fixtures';

/**
 * `drctl verify-run --file` on a saved failover result: the run's headline (who started it, why, and a --force
 * reason), which `status` and the reports show first, must be what the start signed. Only the operator actions'
 * own copies used to be checked, so an edited headline still said "verified".
 */

const keys = operatorKeys('alice', 'bob', 'carol', 'dave', 'glass');
const policy = testPolicy(keys);
const runId = 'failover-ehr-db-20261127-081500';

function savedResult(force?: string): Record<string, unknown> {
  const start = signStatement(
    statement({
      action: 'failover',
      operator: 'alice',
      runId,
      stepId: undefined,
      reason: 'INC-4411 us-east-1 outage',
      ...(force === undefined ? {} : { detail: { force } }),
    }),
    keys.alice.privateKey,
  );
  return {
    workflowId: runId,
    runbookId: 'ehr-db',
    status: 'succeeded',
    reason: 'INC-4411 us-east-1 outage',
    initiator: 'alice',
    operatorActions: [
      {
        action: 'start',
        operator: 'alice',
        reason: 'INC-4411 us-east-1 outage',
        at: new Date(NOW).toISOString(),
        signed: start,
      },
    ],
    authorization: {
      policySha256: policy.sha256,
      runbookId: 'ehr-db',
      runbookHash: RUNBOOK_HASH,
      breakGlassUses: [],
      ...(force === undefined ? {} : { forcedPastPlan: force }),
    },
  };
}

describe('verify-run binds the run headline to the signed start', () => {
  it('GIVEN an untouched result WHEN verified THEN it verifies', () => {
    expect(verifyRunResult(savedResult(), policy).ok).toBe(true);
    expect(verifyRunResult(savedResult('replica lag check is known broken'), policy).ok).toBe(true);
  });

  it('GIVEN one character of the run reason changed WHEN verified THEN it fails, naming both reasons', () => {
    const result = { ...savedResult(), reason: 'INC-4411 us-east-1 outagE' };
    const verification = verifyRunResult(result, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /the run's recorded reason "INC-4411 us-east-1 outagE" differs from the signed start's reason "INC-4411 us-east-1 outage"/,
    );
  });

  it('GIVEN the initiator changed WHEN verified THEN it fails, naming the signer', () => {
    const verification = verifyRunResult({ ...savedResult(), initiator: 'bob' }, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /names "bob" as its initiator, but the signed start is by alice/,
    );
  });

  it('GIVEN the --force reason changed WHEN verified THEN it fails', () => {
    const saved = savedResult('replica lag check is known broken');
    const authorization = { ...(saved.authorization as object), forcedPastPlan: 'nothing to see' };
    const verification = verifyRunResult({ ...saved, authorization }, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(/--force reason "nothing to see" differs/);
  });
});
