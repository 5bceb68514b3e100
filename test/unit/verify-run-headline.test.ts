import { signStatement } from '../../auth/io/native-ed25519';
import { runsNotCarried, verifyRunResult } from '../../cli/run-verification';
import type { OperatorStatement } from '../../auth/statement';
import { evacuationSha256, type EvacuationCover } from '../../evacuations/evacuation-hash';
import type { Evacuation } from '../../evacuations/schema';
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

  it('GIVEN the authorization deleted (and the headline edited) WHEN verified THEN it fails, and no policy passes as the recorded one', () => {
    // Before: with no recorded policy, any policy "is the one the run recorded", and the headline went unchecked.
    const stripped = savedResult();
    delete stripped.authorization;
    const verification = verifyRunResult({ ...stripped, initiator: 'bob', reason: 'routine' }, policy);
    expect(verification.ok).toBe(false);
    expect(verification.policy).toMatchObject({ matchesRecorded: false, recorded: [] });
    expect(verification.runs[0]?.verdicts).toEqual([
      expect.objectContaining({ ok: false, detail: expect.stringMatching(/names no access policy/) }),
    ]);
  });

  it('GIVEN a drill result with its authorization deleted WHEN verified THEN its own record fails', () => {
    const failover = savedResult();
    const drill = {
      drillId: 'drill-ehr-db-20261127-081500',
      runbookId: 'ehr-db',
      initiator: 'bob',
      reason: 'edited',
      operatorActions: failover.operatorActions,
      failover: { workflowId: runId, status: 'succeeded', timeline: [] },
    };
    const verification = verifyRunResult(drill, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs.map((run) => [run.runId, run.verdicts[0]?.ok])).toEqual([
      ['drill-ehr-db-20261127-081500', false],
    ]);
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
 * the run is ehr-db" (an evacuation's child), or the reasons differ (a drill's child). What the record says of its
 * parent is checked against the signed statement, never taken on trust.
 */
describe('verify-run on a failover a parent started', () => {
  const DRILL = 'drill-ehr-db-20261201-012744-293101';
  const EVACUATION_RUN = 'evacuation-us-east-1-20261201-012744-293101';
  const evacuationCover: EvacuationCover = {
    evacuation: {
      id: 'us-east-1',
      title: 'us-east-1 region evacuation',
      waves: [{ id: 'databases', runbooks: ['ehr-db'] }],
    } as unknown as Evacuation,
    runbookHashes: { 'ehr-db': RUNBOOK_HASH },
  };
  const cover = {
    runId: EVACUATION_RUN,
    id: 'us-east-1',
    sha256: evacuationSha256(evacuationCover),
    cover: evacuationCover,
  };

  function signed(fields: Partial<OperatorStatement>, key = keys.alice.privateKey) {
    return signStatement(
      statement({ operator: 'alice', stepId: undefined, reason: 'Q4 drill', ...fields }),
      key,
    );
  }

  function childResult(options: {
    start: ReturnType<typeof signed>;
    reason: string;
    authorization: Record<string, unknown>;
    operatorActions?: unknown[];
  }): Record<string, unknown> {
    return {
      workflowId: 'failover-ehr-db',
      runbookId: 'ehr-db',
      status: 'succeeded',
      reason: options.reason,
      initiator: 'alice',
      operatorActions: [
        {
          action: 'start',
          operator: 'alice',
          reason: 'Q4 drill',
          at: new Date(NOW).toISOString(),
          signed: options.start,
        },
        ...(options.operatorActions ?? []),
      ],
      authorization: {
        policySha256: policy.sha256,
        runbookId: 'ehr-db',
        runbookHash: RUNBOOK_HASH,
        breakGlassUses: [],
        ...options.authorization,
      },
    };
  }

  /** bob's abort of the evacuation run, as the evacuation forwarded it to its failover. */
  const forwardedAbort = (reason: string) => ({
    action: 'abort',
    operator: 'bob',
    reason,
    at: new Date(NOW).toISOString(),
    signed: signed(
      { action: 'abort', runId: EVACUATION_RUN, runbookId: 'us-east-1', runbookHash: cover.sha256, reason },
      keys.bob.privateKey,
    ),
  });

  const drillChild = (overrides: { reason?: string; parent?: string } = {}) =>
    childResult({
      start: signed({ action: 'drill', runId: DRILL }),
      reason: overrides.reason ?? `${DRILL}: Q4 drill`,
      authorization: { startedBy: [DRILL], parent: overrides.parent ?? DRILL },
    });

  const evacuationChild = (authorization: Record<string, unknown> = {}, operatorActions: unknown[] = []) =>
    childResult({
      start: signed({
        action: 'evacuate',
        runId: EVACUATION_RUN,
        runbookId: 'us-east-1',
        runbookHash: cover.sha256,
      }),
      reason: `${EVACUATION_RUN}: Q4 drill`,
      authorization: {
        startedBy: [EVACUATION_RUN],
        parent: EVACUATION_RUN,
        signedFor: cover,
        ...authorization,
      },
      operatorActions,
    });

  it("GIVEN a drill's failover WHEN its saved status is verified THEN the start verifies as the drill's", () => {
    const verification = verifyRunResult(drillChild(), policy);
    expect(verification.runs[0]?.verdicts[0]).toMatchObject({ ok: true });
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(new RegExp(`in the start of ${DRILL}$`));
    expect(verification.ok).toBe(true);
  });

  it("GIVEN an evacuation's failover WHEN its saved status is verified THEN the start verifies as the evacuation's", () => {
    const verification = verifyRunResult(evacuationChild(), policy);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      new RegExp(`in the start of ${EVACUATION_RUN} \\(evacuation us-east-1\\)$`),
    );
    expect(verification.ok).toBe(true);
  });

  /** An evacuation's record as `drctl verify-run <evacuation-id>` reads it: its services' runs with it. */
  const evacuationRead = (serviceRuns: unknown[]) => ({
    workflowId: EVACUATION_RUN,
    evacuationId: 'us-east-1',
    operatorActions: [],
    serviceRuns,
  });

  it("GIVEN an evacuation read by id WHEN one service's run could not be read THEN that run is named and NOT verified, the others are", () => {
    const verification = verifyRunResult(
      evacuationRead([
        evacuationChild(),
        {
          workflowId: 'failover-patient-portal-rds',
          unreadable: 'its run ended TERMINATED without a recorded result',
        },
      ]),
      policy,
    );

    expect(verification.runs.map((run) => run.runId)).toEqual([
      EVACUATION_RUN,
      'failover-ehr-db',
      'failover-patient-portal-rds',
    ]);
    expect(verification.runs[1]?.verdicts.every((verdict) => verdict.ok)).toBe(true);
    expect(verification.runs[2]?.verdicts).toEqual([
      expect.objectContaining({
        ok: false,
        detail: 'not verified: its run ended TERMINATED without a recorded result',
      }),
    ]);
    expect(verification.ok).toBe(false);
  });

  /** An evacuation drill's saved result, as its workflow returns it (`authorization` when its start verified). */
  const evacuationDrill = (authorization: Record<string, unknown> = {}) => ({
    drillId: 'drill-us-east-1-20261201-012744-293101',
    evacuationHash: cover.sha256,
    initiator: 'alice',
    reason: 'Q4 drill',
    operatorActions: [],
    ...authorization,
  });

  it("GIVEN an evacuation drill WHEN verified THEN its evacuation's service runs are verified too, and a saved one without them says so", () => {
    const drill = evacuationDrill();
    const verification = verifyRunResult(
      { ...drill, evacuationRun: evacuationRead([evacuationChild()]) },
      policy,
    );

    expect(verification.runs.map((run) => run.runId)).toEqual([EVACUATION_RUN, 'failover-ehr-db']);
    expect(verification.runs[1]?.verdicts[0]).toMatchObject({ ok: true });
    expect(runsNotCarried({ ...drill, evacuationRun: evacuationRead([]) })).toBeUndefined();
    expect(runsNotCarried(drill)).toMatch(/^its evacuation's run \(its approvals\) and its services' runs/);
    expect(
      runsNotCarried({ workflowId: EVACUATION_RUN, evacuationId: 'us-east-1', operatorActions: [] }),
    ).toMatch(/^its services' own runs are not in this result/);
    expect(runsNotCarried(evacuationChild())).toBeUndefined();
  });

  it("GIVEN an evacuation drill whose evacuation's run cannot be read THEN that run is named and NOT verified; one refused before its evacuation has nothing more to verify", () => {
    const drill = evacuationDrill({
      authorization: {
        policySha256: policy.sha256,
        runbookId: 'us-east-1',
        runbookHash: cover.sha256,
        breakGlassUses: [],
      },
    });
    const unreadable = {
      workflowId: `${drill.drillId}-evacuation`,
      unreadable: 'its run cannot be read (not found)',
    };

    const verification = verifyRunResult({ ...drill, evacuationRun: unreadable }, policy);

    expect(verification.runs.at(-1)).toEqual({
      runId: unreadable.workflowId,
      verdicts: [
        expect.objectContaining({ ok: false, detail: 'not verified: its run cannot be read (not found)' }),
      ],
    });
    expect(verification.ok).toBe(false);
    expect(runsNotCarried({ ...drill, evacuationRun: unreadable })).toBeUndefined();
    expect(
      runsNotCarried({ ...drill, evacuation: { workflowId: 'x', status: 'not started' } }),
    ).toBeUndefined();
  });

  it('GIVEN an abort the evacuation forwarded WHEN verified THEN it verifies as signed for the evacuation run', () => {
    const verification = verifyRunResult(evacuationChild({}, [forwardedAbort('wrong region')]), policy);
    expect(verification.runs[0]?.verdicts[1]?.detail).toMatch(
      new RegExp(`forwarded by evacuation run ${EVACUATION_RUN}$`),
    );
    expect(verification.ok).toBe(true);
  });

  it('GIVEN the parent in its reason changed WHEN verified THEN it fails', () => {
    const verification = verifyRunResult(
      drillChild({ reason: 'drill-ehr-db-20261130-000000-000000: Q4 drill' }),
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /recorded reason .* differs from the signed start's reason/,
    );
  });

  it("GIVEN a run's own start WHEN the record claims a parent to put words before its reason THEN it fails", () => {
    const own = childResult({
      start: signed({ action: 'failover', runId: 'failover-ehr-db' }),
      reason: 'Approved by CAB-77: Q4 drill',
      authorization: { parent: 'Approved by CAB-77' },
    });
    const verification = verifyRunResult(own, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /recorded reason "Approved by CAB-77: Q4 drill" differs/,
    );
  });

  it('GIVEN a genuine failover start of another runbook WHEN a record claims it under a made-up evacuation THEN it fails', () => {
    // A real start of patient-portal-rds, lifted into a record of ehr-db that names it as its parent's.
    const lifted = childResult({
      start: signed({
        action: 'failover',
        runId: 'failover-patient-portal-rds',
        runbookId: 'patient-portal-rds',
      }),
      reason: 'failover-patient-portal-rds: Q4 drill',
      authorization: {
        startedBy: ['failover-patient-portal-rds'],
        parent: 'failover-patient-portal-rds',
        signedFor: { runId: 'failover-patient-portal-rds', id: 'patient-portal-rds', sha256: RUNBOOK_HASH },
      },
    });
    const verification = verifyRunResult(lifted, policy);
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toBe(
      'a "failover" statement does not start a failover under evacuation patient-portal-rds',
    );
  });

  it('GIVEN an evacuation that does not list the runbook WHEN a record claims to run under it THEN it fails', () => {
    const other: EvacuationCover = {
      ...evacuationCover,
      runbookHashes: { 'patient-portal-rds': RUNBOOK_HASH },
    };
    const otherCover = { ...cover, sha256: evacuationSha256(other), cover: other };
    const verification = verifyRunResult(
      childResult({
        start: signed({
          action: 'evacuate',
          runId: EVACUATION_RUN,
          runbookId: 'us-east-1',
          runbookHash: otherCover.sha256,
        }),
        reason: `${EVACUATION_RUN}: Q4 drill`,
        authorization: { startedBy: [EVACUATION_RUN], parent: EVACUATION_RUN, signedFor: otherCover },
      }),
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /evacuation us-east-1 as signed does not list runbook ehr-db/,
    );
  });

  it('GIVEN the evacuation it was started under changed WHEN verified THEN it fails', () => {
    const verification = verifyRunResult(
      evacuationChild({ signedFor: { ...cover, sha256: 'd'.repeat(64) } }),
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      /does not hash to the one it was started under/,
    );
  });

  it("GIVEN a scheduled drill's failover and a drill's evacuation's failover WHEN verified THEN both verify", () => {
    const scheduleRun = 'drill-ehr-db-2026-12-01T09:00:00Z';
    const scheduled = childResult({
      start: signed({ action: 'schedule', stepId: 'create', runId: 'drill-ehr-db' }),
      reason: `${scheduleRun}: Q4 drill`,
      authorization: { startedBy: ['drill-ehr-db'], parent: scheduleRun },
    });
    expect(verifyRunResult(scheduled, policy).ok).toBe(true);
    const drilledEvacuation = `${DRILL}-evacuation`;
    const drilled = childResult({
      start: signed({ action: 'drill', runId: DRILL, runbookId: 'us-east-1', runbookHash: cover.sha256 }),
      reason: `${drilledEvacuation}: Q4 drill`,
      authorization: {
        startedBy: [DRILL],
        parent: drilledEvacuation,
        signedFor: { ...cover, runId: drilledEvacuation },
      },
    });
    expect(verifyRunResult(drilled, policy).ok).toBe(true);
  });

  it("GIVEN another operator's approval WHEN a record passes it off as a start THEN it fails", () => {
    // carol may approve, never start: her approval of the drill, recorded as the child's start or a run's own.
    const approval = signed({ action: 'approve', runId: DRILL, stepId: 'go' }, keys.carol.privateKey);
    const asChild = childResult({
      start: approval,
      reason: `${DRILL}: Q4 drill`,
      authorization: { startedBy: [DRILL], parent: DRILL },
    });
    const own = childResult({
      start: signed({ action: 'approve', runId: 'failover-ehr-db', stepId: 'go' }, keys.carol.privateKey),
      reason: 'Q4 drill',
      authorization: {},
    });
    for (const forged of [asChild, own]) {
      const verdict = verifyRunResult(
        {
          ...forged,
          initiator: 'carol',
          operatorActions: [{ ...(forged.operatorActions as object[])[0], operator: 'carol' }],
        },
        policy,
      ).runs[0]?.verdicts[0];
      expect(verdict?.ok).toBe(false);
      expect(verdict?.detail).toMatch(/a "approve" statement does not start/);
    }
  });

  it("GIVEN a schedule's pause WHEN a record passes it off as a scheduled drill's start THEN it fails", () => {
    const pause = childResult({
      start: signed({ action: 'schedule', stepId: 'pause', runId: 'drill-ehr-db' }),
      reason: 'drill-ehr-db-2026-12-01T09:00:00Z: Q4 drill',
      authorization: { startedBy: ['drill-ehr-db'], parent: 'drill-ehr-db-2026-12-01T09:00:00Z' },
    });
    expect(verifyRunResult(pause, policy).runs[0]?.verdicts[0]?.detail).toBe(
      'a "schedule" statement does not start a drill\'s failover',
    );
  });

  it('GIVEN a run that is not in the evacuation WHEN its record claims an abort the evacuation forwarded THEN it fails', () => {
    const withoutCover = { runId: cover.runId, id: cover.id, sha256: cover.sha256 };
    const forged = childResult({
      start: signed({ action: 'failover', runId: 'failover-ehr-db' }),
      reason: 'Q4 drill',
      authorization: { signedFor: withoutCover },
      operatorActions: [forwardedAbort('stop')],
    });
    const verdict = verifyRunResult(forged, policy).runs[0]?.verdicts[1];
    expect(verdict?.ok).toBe(false);
    expect(verdict?.detail).toMatch(/does not keep evacuation us-east-1 as signed/);
  });

  it("GIVEN a parent's start WHEN the record names no parent THEN it is not verified (before: it passed, reason unchecked)", () => {
    for (const authorization of [{ startedBy: [DRILL] }, { startedBy: [EVACUATION_RUN], signedFor: cover }]) {
      const start = authorization.signedFor
        ? signed({
            action: 'evacuate',
            runId: EVACUATION_RUN,
            runbookId: 'us-east-1',
            runbookHash: cover.sha256,
          })
        : signed({ action: 'drill', runId: DRILL });
      const verification = verifyRunResult(childResult({ start, reason: 'Q4 drill', authorization }), policy);
      expect(verification.ok).toBe(false);
      expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(/keeps too little of to re-check offline/);
    }
  });

  it('GIVEN a child recorded before it kept its parent WHEN verified THEN it fails saying which run to verify instead', () => {
    const verification = verifyRunResult(
      childResult({
        start: signed({ action: 'drill', runId: DRILL }),
        reason: `${DRILL}: Q4 drill`,
        authorization: { startedBy: [DRILL] },
      }),
      policy,
    );
    expect(verification.ok).toBe(false);
    expect(verification.runs[0]?.verdicts[0]?.detail).toMatch(
      new RegExp(`verify that run \\(drctl verify-run ${DRILL}\\)$`),
    );
  });
});
