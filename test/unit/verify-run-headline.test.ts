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

/**
 * A failover a drill or an evacuation started runs on its parent's signed start, and records its reason as
 * `<parent>: <signed reason>`. Its saved status used to say NOT verified offline: "signed for runbook us-east-1,
 * the run is ehr-db" (an evacuation's child), or the reasons differ (a drill's child).
 */
describe('verify-run on a failover a parent started', () => {
  const EVACUATION_HASH = 'e'.repeat(64);

  function childResult(parent: {
    action: 'drill' | 'evacuate';
    runId: string;
    signedFor?: { id: string; sha256: string };
    recordsParent?: boolean;
  }): Record<string, unknown> {
    const start = signStatement(
      statement({
        action: parent.action,
        operator: 'alice',
        runId: parent.runId,
        stepId: undefined,
        reason: 'Q4 drill',
        runbookId: parent.signedFor?.id ?? 'ehr-db',
        runbookHash: parent.signedFor?.sha256 ?? RUNBOOK_HASH,
      }),
      keys.alice.privateKey,
    );
    const recordsParent = parent.recordsParent ?? true;
    return {
      workflowId: 'failover-ehr-db',
      runbookId: 'ehr-db',
      status: 'succeeded',
      reason: `${parent.runId}: Q4 drill`,
      initiator: 'alice',
      operatorActions: [
        {
          action: 'start',
          operator: 'alice',
          reason: 'Q4 drill',
          at: new Date(NOW).toISOString(),
          signed: start,
        },
      ],
      authorization: {
        policySha256: policy.sha256,
        runbookId: 'ehr-db',
        runbookHash: RUNBOOK_HASH,
        startedBy: [parent.runId],
        ...(recordsParent ? { parent: parent.runId } : {}),
        ...(recordsParent && parent.signedFor ? { signedFor: parent.signedFor } : {}),
        breakGlassUses: [],
      },
    };
  }

  it("GIVEN a drill's failover WHEN its saved status is verified THEN the start verifies as the drill's", () => {
    const verification = verifyRunResult(
      childResult({ action: 'drill', runId: 'drill-ehr-db-20261201-012744-293101' }),
      policy,
    );
    expect(verification.runs[0]?.verdicts[0]).toMatchObject({ ok: true });
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /in the start of drill-ehr-db-20261201-012744-293101$/,
    );
    expect(verification.ok).toBe(true);
  });

  it("GIVEN an evacuation's failover WHEN its saved status is verified THEN the start verifies as the evacuation's", () => {
    const verification = verifyRunResult(
      childResult({
        action: 'evacuate',
        runId: 'evacuation-us-east-1',
        signedFor: { id: 'us-east-1', sha256: EVACUATION_HASH },
      }),
      policy,
    );
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /in the start of evacuation-us-east-1 \(evacuation us-east-1\)$/,
    );
    expect(verification.ok).toBe(true);
  });

  it('GIVEN the parent in its reason changed WHEN verified THEN it fails', () => {
    const saved = childResult({ action: 'drill', runId: 'drill-ehr-db-20261201-012744-293101' });
    const verification = verifyRunResult(
      { ...saved, reason: 'drill-ehr-db-20261130-000000-000000: Q4 drill' },
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /recorded reason .* differs from the signed start's reason/,
    );
  });

  it('GIVEN the evacuation it was started under changed WHEN verified THEN it fails', () => {
    const saved = childResult({
      action: 'evacuate',
      runId: 'evacuation-us-east-1',
      signedFor: { id: 'us-east-1', sha256: EVACUATION_HASH },
    });
    const authorization = {
      ...(saved.authorization as object),
      signedFor: { id: 'us-east-1', sha256: 'd'.repeat(64) },
    };
    const verification = verifyRunResult({ ...saved, authorization }, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /signed for sha256 e{64}, the run was started under evacuation us-east-1 sha256 d{64}/,
    );
  });

  it('GIVEN a child recorded before it kept its parent WHEN verified THEN it fails saying which run to verify instead', () => {
    const verification = verifyRunResult(
      childResult({
        action: 'evacuate',
        runId: 'evacuation-us-east-1',
        signedFor: { id: 'us-east-1', sha256: EVACUATION_HASH },
        recordsParent: false,
      }),
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /verify that run \(drctl verify-run evacuation-us-east-1\)$/,
    );
  });
});
