import { createPublicKey, verify } from 'node:crypto';
import passing from '../fixtures/drill-result-pass.json';
import rpoMissed from '../fixtures/drill-result-rpo-fail.json';
import stepFailed from '../fixtures/drill-result-step-failed.json';
import recorded from '../fixtures/drill-operator-actions.json';
import {
  buildAuditMapping,
  type RecordedOperatorAction,
  type SignatureVerdict,
} from '../../reports/audit-mapping';
import { renderHtml } from '../../reports/render-html';
import { renderJson } from '../../reports/render-json';
import { renderMarkdown } from '../../reports/render-markdown';
import type { DrillResult } from '../../workflows/drill-types';

const pass = passing as DrillResult;
const rpoFail = rpoMissed as DrillResult;
const failedStep = stepFailed as unknown as DrillResult;
const actions = recorded.actions as RecordedOperatorAction[];
const publicKey = createPublicKey(recorded.publicKeyPem);

/** The fixture's signature scheme: Ed25519 over the action's own fields, as the test fixture signed them. */
function checkSignature(action: RecordedOperatorAction): SignatureVerdict {
  const signature = action.signature as { value: string } | undefined;
  if (!signature) return { status: 'unsigned' };
  const { action: kind, operator, reason, at, stepId } = action;
  const message = Buffer.from(JSON.stringify({ action: kind, operator, reason, at, stepId: stepId ?? null }));
  return verify(null, message, publicKey, Buffer.from(signature.value, 'base64'))
    ? { status: 'verified' }
    : { status: 'invalid', detail: 'the action differs from what was signed' };
}

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
    expect(byOperator['maria.okafor@example.org']).toMatchObject({ verified: true, actions: ['start'] });
    expect(byOperator['sam.reyes@example.org']).toMatchObject({
      verified: true,
      actions: ['approve fence-primary'],
    });
    expect(byOperator['lee.chen@example.org']).toMatchObject({ verified: false });
    expect(byOperator['lee.chen@example.org']!.evidence).toBe(
      'not verified: 1 signature INVALID (the action differs from what was signed)',
    );
    expect(byOperator['alex.kim@example.org']).toMatchObject({
      verified: false,
      evidence: 'not verified: 1 unsigned',
    });
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

describe('the section in each report format', () => {
  test('Markdown: method, participants with verification, results and follow-ups as a checklist', () => {
    const markdown = renderMarkdown(failedStep, { operatorActions: actions, checkSignature });
    expect(markdown).toContain('## Contingency plan test (HIPAA 45 CFR 164.308(a)(7)(ii)(D))');
    expect(markdown).toContain(`- Failure injected: \`${failedStep.injection.action}\``);
    expect(markdown).toContain('| maria.okafor@example.org | start | **verified** |');
    expect(markdown).toContain(
      '| alex.kim@example.org | retry probe-writes | not verified | not verified: 1 unsigned |',
    );
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
