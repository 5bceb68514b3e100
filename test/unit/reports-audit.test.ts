import passing from '../fixtures/drill-result-pass.json';
import rpoMissed from '../fixtures/drill-result-rpo-fail.json';
import stepFailed from '../fixtures/drill-result-step-failed.json';
import { signatureCheckFor, type RunRecord } from '../../auth/recorded-actions';
import { buildAuditMapping, type RecordedOperatorAction } from '../../reports/audit-mapping';
import { renderHtml } from '../../reports/render-html';
import { renderJson } from '../../reports/render-json';
import { renderMarkdown } from '../../reports/render-markdown';
import type { DrillResult } from '../../workflows/drill-types';
import { operatorKeys, RUNBOOK_HASH, signedBy, testPolicy } from './auth-fixtures';

const pass = passing as DrillResult;
const rpoFail = rpoMissed as DrillResult;
const failedStep = stepFailed as unknown as DrillResult;

/**
 * A drill's failover as drctl records it: each operator action with the statement its operator signed (the
 * same signatures `drctl verify-run` checks). bob started it, carol approved, alice approved but her recorded
 * reason was edited after signing, and dave's retry carries no signature.
 */
const RUN_ID = 'drill-ehr-db-20261127-0815-failover';
const keys = operatorKeys('alice', 'bob', 'carol', 'dave', 'glass');
const policy = testPolicy(keys);
const signed = (
  key: { privateKey: string },
  action: 'failover' | 'approve',
  operator: string,
  reason: string,
  stepId?: string,
) =>
  signedBy(key, {
    action,
    operator,
    runId: RUN_ID,
    reason,
    ...(stepId === undefined ? { stepId: undefined } : { stepId }),
  });
const actions: RecordedOperatorAction[] = [
  {
    action: 'start',
    operator: 'bob',
    reason: 'Quarterly DR drill (CHG-2291)',
    at: '2026-11-27T08:15:04.000Z',
    signed: signed(keys.bob, 'failover', 'bob', 'Quarterly DR drill (CHG-2291)'),
  },
  {
    action: 'approve',
    operator: 'carol',
    reason: 'second pair of eyes on the fence',
    stepId: 'production-approval',
    at: '2026-11-27T08:15:12.100Z',
    signed: signed(keys.carol, 'approve', 'carol', 'second pair of eyes on the fence', 'production-approval'),
  },
  {
    action: 'approve',
    operator: 'alice',
    reason: 'edited after signing',
    stepId: 'switch-dns',
    at: '2026-11-27T08:15:13.000Z',
    signed: signed(keys.alice, 'approve', 'alice', 'as signed', 'switch-dns'),
  },
  {
    action: 'retry',
    operator: 'dave',
    reason: 'transient',
    stepId: 'probe-writes',
    at: '2026-11-27T08:15:14.000Z',
  },
];
const record: RunRecord = {
  runId: RUN_ID,
  runbookId: 'ehr-db',
  runbookHash: RUNBOOK_HASH,
  policySha256: policy.sha256,
  operatorActions: actions,
};
const checkSignature = signatureCheckFor(record, policy);

describe('audit mapping (45 CFR 164.308(a)(7)(ii)(D))', () => {
  test('GIVEN a passing drill WHEN mapped THEN method names the injected failure and how, results are met, no follow-ups', () => {
    const audit = buildAuditMapping(pass);
    expect(audit.method).toMatchObject({
      type: 'drill',
      injectedFailure: pass.injection.action,
      how: pass.injection.summary,
      injectedAt: pass.injection.injectedAt,
      runbookSha256: pass.runbookHash,
    });
    expect(audit.results).toEqual([
      { objective: 'RTO', objectiveMs: 30000, measuredMs: 11840, verdict: 'met' },
      { objective: 'RPO', objectiveMs: 1000, measuredMs: 200, verdict: 'met' },
    ]);
    expect(audit.followUps).toEqual([]);
  });

  test('GIVEN signed operator actions WHEN mapped with a verifier THEN only operators whose every signature verifies are verified', () => {
    const audit = buildAuditMapping(pass, { operatorActions: actions, checkSignature });
    const byOperator = Object.fromEntries(audit.participants.map((p) => [p.operator, p]));
    expect(byOperator.bob).toMatchObject({ verified: true, actions: ['start'] });
    expect(byOperator.carol).toMatchObject({ verified: true, actions: ['approve production-approval'] });
    expect(byOperator.alice).toMatchObject({ verified: false });
    expect(byOperator.alice!.evidence).toMatch(
      /^not verified: 1 signature INVALID \(recorded reason "edited after signing" differs from the signed reason "as signed"\)/,
    );
    expect(byOperator.dave).toMatchObject({ verified: false, evidence: 'not verified: 1 unsigned' });
    expect(audit.participantsSource).toBe('signed operator actions');
  });

  test('GIVEN signatures but no verifier WHEN mapped THEN nobody is marked verified', () => {
    const audit = buildAuditMapping(pass, { operatorActions: actions });
    expect(audit.participants.some((participant) => participant.verified)).toBe(false);
    expect(audit.participants[0]!.evidence).toContain(
      'signature not checked (no signature verifier was configured)',
    );
  });

  test('GIVEN no recorded actions WHEN mapped THEN the initiator and paused-step deciders are listed, unverified', () => {
    const audit = buildAuditMapping(failedStep);
    expect(audit.participantsSource).toBe('drill result only');
    expect(audit.participants.map((p) => [p.operator, p.actions, p.verified])).toEqual([
      [failedStep.initiator, ['start'], false],
      ['sam.reyes@example.org', ['abort switch-dns'], false],
    ]);
  });

  test('GIVEN a missed RPO WHEN mapped THEN it becomes one corrective action with the numbers', () => {
    const audit = buildAuditMapping(rpoFail);
    expect(audit.results.find((row) => row.objective === 'RPO')?.verdict).toBe('missed');
    expect(audit.followUps).toHaveLength(1);
    expect(audit.followUps[0]).toMatchObject({ id: 'FU-1', source: 'objective RPO' });
    expect(audit.followUps[0]!.action).toMatch(
      /^RPO objective missed: measured 3\.4s against 1s \(2\.4s over\)\. .*33 acknowledged row\(s\) were lost/,
    );
  });

  test('GIVEN a missed RTO WHEN mapped THEN the advice names the critical step that took the largest part of the recovery', () => {
    // rpoFail's steps, its RTO missed (a 10s objective against 14.4s): promote-replica took 5.51s of it, the
    // largest part; the recorded criticalPath is ignored (drills recorded before kept whole durations there).
    const missed: DrillResult = {
      ...rpoFail,
      objectives: { ...rpoFail.objectives, rtoMs: 10_000, rto: '10s' },
      verdicts: rpoFail.verdicts.map((verdict) =>
        verdict.objective === 'RTO'
          ? { ...verdict, targetMs: 10_000, marginMs: -4_400, passed: false }
          : verdict,
      ),
      criticalPath: [
        { stepId: 'switch-dns', kind: 'dns.switch', startMs: 0, durationMs: 60_000, shareOfRto: 1.9 },
      ],
    };
    const advice = buildAuditMapping(missed).followUps.find(
      (followUp) => followUp.source === 'objective RTO',
    );
    expect(advice?.action).toContain(
      'Shorten the critical path: step promote-replica took 5.51s of the 14.4s recovery (38%).',
    );
  });

  test('GIVEN a failed step and an unmeasured RTO WHEN mapped THEN each becomes its own corrective action', () => {
    const audit = buildAuditMapping(failedStep);
    expect(audit.followUps.map((followUp) => followUp.source)).toEqual(['objective RTO', 'step switch-dns']);
    expect(audit.followUps[1]!.action).toContain(
      'Step switch-dns (dns.switch) failed: AccessDenied: Route 53 ChangeResourceRecordSets Z0SANDBOX',
    );
    expect(audit.followUps[0]!.action).toContain('RTO was not measured');
    expect(audit.passed).toBe(false);
  });
});

describe('an objective the drill said it could not measure (an RDS pair without connections)', () => {
  const reason = 'no connection to the RDS primary (primary.connection)';
  const rpoNotMeasured: DrillResult = {
    ...pass,
    measured: { ...pass.measured, rpoMs: null },
    verdicts: pass.verdicts.map((verdict) =>
      verdict.objective === 'RPO'
        ? { ...verdict, measuredMs: null, marginMs: null, passed: false, notMeasured: reason }
        : verdict,
    ),
  } as unknown as DrillResult;

  test('GIVEN a passing drill with RPO not measured WHEN mapped THEN RPO is N/A, not FAIL, with a follow-up saying why', () => {
    const audit = buildAuditMapping(rpoNotMeasured);
    expect(audit.results.find((row) => row.objective === 'RPO')).toMatchObject({
      verdict: 'not applicable',
      notMeasuredBecause: reason,
    });
    expect(audit.followUps.map((followUp) => followUp.action).join('\n')).toContain(
      `RPO could not be measured by this drill (${reason})`,
    );
    const markdown = renderMarkdown(rpoNotMeasured);
    expect(markdown).toMatch(/\| RPO \| 1s \| not measured \| \*\*N\/A \(not measured\)\*\* \|/);
    expect(markdown).not.toContain('FAIL (not measured)');
  });
});

describe('the section in each report format', () => {
  test('Markdown: method, participants with verification, results and follow-ups as a checklist', () => {
    const markdown = renderMarkdown(failedStep, { operatorActions: actions, checkSignature });
    expect(markdown).toContain('## Contingency plan test (HIPAA 45 CFR 164.308(a)(7)(ii)(D))');
    expect(markdown).toContain(`- Failure injected: \`${failedStep.injection.action}\``);
    expect(markdown).toContain('| bob | start | **verified** |');
    expect(markdown).toContain('| dave | retry probe-writes | not verified | not verified: 1 unsigned |');
    expect(markdown).toContain('| RTO | 30s | not measured | **FAIL (not measured)** |');
    expect(markdown).toContain('| RPO | 1s | 200ms | **PASS (met)** |');
    expect(markdown).toContain(
      '- [ ] **FU-2** (step switch-dns): Step switch-dns (dns.switch) failed: AccessDenied',
    );
  });

  test('HTML: the section is present, escaped, with one row per participant and per follow-up', () => {
    const html = renderHtml(rpoFail, [], {
      operatorActions: [{ action: 'start', operator: '<b>eve</b>', reason: 'x', at: rpoFail.startedAt }],
    });
    expect(html).toContain('<section id="contingency-test" data-testid="contingency-test">');
    expect(html).toContain('data-operator="&lt;b&gt;eve&lt;/b&gt;" data-verified="false"');
    expect(html).not.toContain('<b>eve</b>');
    expect(html).toContain('<tr data-objective="RPO" data-verdict="missed">');
    expect(html.split('<li data-follow-up=').length - 1).toBe(1);
  });

  test('JSON: the mapping is the contingencyTest key beside the recorded result', () => {
    const json = JSON.parse(renderJson(failedStep, { operatorActions: actions, checkSignature })) as {
      contingencyTest: { followUps: unknown[]; participants: Array<{ verified: boolean }> };
      drillId: string;
    };
    expect(json.drillId).toBe(failedStep.drillId);
    expect(json.contingencyTest.followUps).toHaveLength(2);
    expect(json.contingencyTest.participants.filter((p) => p.verified)).toHaveLength(2);
  });
});
