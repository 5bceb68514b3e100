import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvacuationProgress, ServiceProgress } from '../../evacuations/evacuation-types';
import { renderReport } from '../../reports';
import { escapeMarkup } from '../../reports/escape';
import { serviceRows } from '../../reports/render-evacuation-drill';
import { defineRunbook } from '../../runbooks/define-runbook';
import type { Runbook } from '../../runbooks/schema';
import { renderEvacuationDrillSummary } from '../../cli/render-drill';
import { NOT_INJECTED, drillOutcome, optionsChangedSinceSigned } from '../../workflows/drill-types';
import {
  evacuationDrillPassed,
  firstInjection,
  historyFigures,
  restoredAllMs,
  serviceDrillResult,
  waveTimings,
  type DrillCommon,
  type ServiceMeasurement,
} from '../../workflows/evacuation-drill-measurement';
import type { EvacuationDrillResult, ServiceDrillResult } from '../../workflows/evacuation-drill-types';
import type { FailoverResult } from '../../workflows/run-types';
import { runDrctl } from './run-drctl';

/**
 * A drill of an evacuation, composed from each service's measurement by the single-runbook drill's rules: each
 * service against its own objectives, an RPO it has no way to measure N/A (not a pass, not a failure), a service
 * whose failover did not succeed failed with its reason, the waves timed from the first injection; and its
 * reports in every format. The CLI refuses a bad evacuation before anything is signed or started.
 */

const T0 = Date.parse('2026-11-28T09:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

const postgresRunbook: Runbook = defineRunbook({
  id: 'ehr-db',
  title: 'EHR',
  owner: 'oncall',
  objectives: { rto: '15m', rpo: '1m' },
  targets: {
    databases: {
      ehr: {
        provider: 'postgres',
        primary: { connection: 'p', endpoint: '10.0.0.2' },
        replica: { connection: 'r', endpoint: '10.0.0.3' },
        applicationRoles: ['ehr_app'],
      },
    },
  },
  steps: [
    { id: 'fence', kind: 'database.fence', database: 'ehr' },
    { id: 'promote', kind: 'database.promote', database: 'ehr' },
  ],
});

const rdsRunbook: Runbook = defineRunbook({
  id: 'portal',
  title: 'Portal',
  owner: 'oncall',
  objectives: { rto: '30m', rpo: '5m' },
  targets: {
    databases: {
      portal: {
        provider: 'rds-instance',
        primary: { instanceId: 'a', region: 'us-east-1' },
        replica: { instanceId: 'b', region: 'us-west-2' },
        fenceSecurityGroup: 'drctl-fence-deny-all',
      },
    },
  },
  steps: [
    { id: 'fence', kind: 'database.fence', database: 'portal' },
    { id: 'promote', kind: 'database.promote', database: 'portal' },
  ],
});

const common: DrillCommon = {
  drillId: 'drill-us-east-1-20261128-090000',
  reason: 'Q4 region drill',
  initiator: 'alice',
  startedAt: at(-5000),
  environment: { temporalNamespace: 'default', taskQueue: 'drctl' },
};

function progress(runbookId: string, wave: string, fields: Partial<ServiceProgress>): ServiceProgress {
  return {
    runbookId,
    wave,
    dependsOn: [],
    state: 'succeeded',
    workflowId: `failover-${runbookId}`,
    runId: `run-${runbookId}`,
    currentSteps: [],
    stepsDone: 1,
    totalSteps: 1,
    ...fields,
  };
}

function failover(runbookId: string, startMs: number, endMs: number): FailoverResult {
  return {
    workflowId: `failover-${runbookId}`,
    runId: `run-${runbookId}`,
    runbookId,
    status: 'succeeded',
    reason: 'drill',
    initiator: 'alice',
    startedAt: at(startMs),
    endedAt: at(endMs),
    currentSteps: [],
    timeline: [
      {
        stepId: 'promote',
        kind: 'database.promote',
        status: 'succeeded',
        startedAt: at(startMs),
        endedAt: at(endMs),
        durationMs: endMs - startMs,
        attempts: 1,
        providerMs: endMs - startMs,
      },
    ],
    totalSteps: 1,
    operatorActions: [],
    awaiting: [],
  };
}

/** ehr-db: injected at T0, restored 4 s later, 0.3 s of data lost; measured and within its objectives. */
const ehrMeasurement: ServiceMeasurement = {
  runbook: postgresRunbook,
  runbookHash: 'a'.repeat(64),
  wave: 'databases',
  progress: progress('ehr-db', 'databases', { startedAt: at(100), endedAt: at(3900) }),
  injection: { action: 'fence-primary', injectedAt: at(0), summary: 'fenced 10.0.0.2' },
  restoredAt: at(4000),
  probed: true,
  canary: {
    drillId: 'd',
    acknowledged: 40,
    lastAcknowledgedSeq: 40,
    lastAcknowledgedAt: at(-100),
    firstWriteAt: at(-4000),
    failedWrites: 3,
    series: [],
  },
  dataLoss: { newestPresentAt: at(-300), newestPresentSeq: 38, presentRows: 38, lostRows: 0, rpoMs: 300 },
  failover: failover('ehr-db', 100, 3900),
};

/** portal: injected 2 s after T0 (an RDS fence is slower), restored when its failover ended; no connection, RPO N/A. */
const portalMeasurement: ServiceMeasurement = {
  runbook: rdsRunbook,
  runbookHash: 'b'.repeat(64),
  wave: 'portal',
  progress: progress('portal', 'portal', { startedAt: at(10_000), endedAt: at(14_000) }),
  injection: { action: 'fence-primary', injectedAt: at(2000), summary: 'fence security group swapped in' },
  restoredAt: at(14_000),
  probed: false,
  canary: null,
  dataLoss: null,
  failover: failover('portal', 10_000, 14_000),
  rpoNotMeasurable: 'not measured: the rds-instance target has no primary.connection',
};

function evacuation(services: ServiceProgress[]): EvacuationProgress {
  return {
    workflowId: 'drill-us-east-1-20261128-090000-evacuation',
    evacuationId: 'us-east-1',
    title: 'Evacuate us-east-1',
    status: 'succeeded',
    reason: 'Q4 region drill',
    initiator: 'alice',
    startedAt: at(-3000),
    endedAt: at(14_500),
    waves: [
      { id: 'databases', state: 'settled', concurrency: 1 },
      { id: 'portal', state: 'settled', concurrency: 1, approvedBy: 'bob' },
      { id: 'later', state: 'settled', concurrency: 1 },
    ],
    services,
    operatorActions: [],
    awaiting: [],
  };
}

/** The drill's result as a report reads it: through JSON, as Temporal stores it (an unmeasured NaN is null). */
function drillOf(services: ServiceDrillResult[], error?: string): EvacuationDrillResult {
  return JSON.parse(JSON.stringify(composed(services, error))) as EvacuationDrillResult;
}

function composed(services: ServiceDrillResult[], error?: string): EvacuationDrillResult {
  const injectedAt = firstInjection(services);
  const progressOf = evacuation(services.map((s) => progress(s.runbookId, s.wave, {})));
  return {
    drillId: common.drillId,
    evacuationId: 'us-east-1',
    evacuationHash: 'c'.repeat(64),
    title: 'Evacuate us-east-1',
    reason: common.reason,
    initiator: 'alice',
    startedAt: common.startedAt,
    endedAt: at(20_000),
    action: 'fence-primary',
    injectedAt,
    evacuation: { workflowId: progressOf.workflowId, status: 'succeeded' },
    restoredAllMs: restoredAllMs(injectedAt, services),
    evacuationMs: 17_500,
    waves: waveTimings(
      evacuation([ehrMeasurement.progress as ServiceProgress, portalMeasurement.progress as ServiceProgress]),
      injectedAt,
    ),
    services,
    passed: evacuationDrillPassed(error, services),
    operatorActions: [],
    environment: common.environment,
    ...(error === undefined ? {} : { error }),
  };
}

describe('GIVEN each service measured by the single-runbook drill rules', () => {
  const ehr = serviceDrillResult(common, ehrMeasurement, at(20_000));
  const portal = serviceDrillResult(common, portalMeasurement, at(20_000));

  test('THEN each is judged against its own objectives, from its own injection', () => {
    expect(ehr.measured).toEqual({ rtoMs: 4000, rpoMs: 300 });
    expect(ehr.verdicts.map((v) => `${v.objective}:${v.passed}:${v.targetMs}`)).toEqual([
      'RTO:true:900000',
      'RPO:true:60000',
    ]);
    expect(ehr.criticalPath.map((step) => `${step.stepId}@${step.startMs}`)).toEqual(['promote@100']);
    expect(portal.measured).toEqual({ rtoMs: 12_000, rpoMs: null });
    expect(portal.passed).toBe(true);
  });

  test('THEN an RPO it has no way to measure is N/A, neither a pass nor a failure', () => {
    const rpo = portal.verdicts.find((v) => v.objective === 'RPO');
    expect(rpo?.passed).toBe(false);
    expect(rpo?.notMeasured).toContain('primary.connection');
    const [, row] = serviceRows(drillOf([ehr, portal]));
    expect(row?.rpo.passed).toBeNull();
    const markdown = renderReport(drillOf([ehr, portal]), 'md');
    expect(markdown).toMatch(
      /\| portal \| portal \| succeeded \| 12s \/ 30m \| \*\*PASS\*\* \| N\/A \/ 5m \| \*\*N\/A\*\* \| \*\*PASS\*\* \|/,
    );
    expect(markdown).toContain(
      '2 of 2 services passed; not measured (N/A), so not shown to be met: portal RPO',
    );
  });

  test('THEN the evacuation passes only when every service passed and the drill had no error', () => {
    expect(evacuationDrillPassed(undefined, [ehr, portal])).toBe(true);
    expect(evacuationDrillPassed('pre-flight refused the drill', [ehr, portal])).toBe(false);
    expect(evacuationDrillPassed(undefined, [])).toBe(false);
  });

  test('THEN the waves are timed from the first injection and the total runs to the last restoration', () => {
    const drill = drillOf([ehr, portal]);
    expect(drill.injectedAt).toBe(at(0));
    expect(drill.restoredAllMs).toBe(14_000);
    expect(drill.waves).toEqual([
      { id: 'databases', services: ['ehr-db'], startMs: 100, endMs: 3900, durationMs: 3800 },
      {
        id: 'portal',
        services: ['portal'],
        startMs: 10_000,
        endMs: 14_000,
        durationMs: 4000,
        approvedBy: 'bob',
      },
      { id: 'later', services: [], startMs: null, endMs: null, durationMs: null },
    ]);
    expect(historyFigures(drill.restoredAllMs, drill.services)).toEqual({ rtoMs: 14_000, rpoMs: 300 });
  });
});

describe('GIVEN a service whose failover failed, and one skipped after it', () => {
  const ehr = serviceDrillResult(
    common,
    {
      ...ehrMeasurement,
      progress: progress('ehr-db', 'databases', {
        state: 'failed',
        endedAt: at(3000),
        detail: 'stopped at promote: ReplicaNotFound',
      }),
      restoredAt: null,
      dataLoss: null,
      failover: null,
    },
    at(20_000),
  );
  const portal = serviceDrillResult(
    common,
    {
      ...portalMeasurement,
      progress: progress('portal', 'portal', {
        state: 'skipped',
        detail: 'not started: ehr-db, which it depends on, ended failed',
      }),
      restoredAt: null,
      failover: null,
    },
    at(20_000),
  );

  test('THEN each fails with its reason, its unmeasured objectives are N/A, and the evacuation fails', () => {
    expect(ehr.error).toBe('its failover failed: stopped at promote: ReplicaNotFound');
    expect(ehr.passed).toBe(false);
    expect(ehr.failover).toMatchObject({ workflowId: 'failover-ehr-db', status: 'failed', timeline: [] });
    expect(portal.error).toBe(
      'its failover was skipped: not started: ehr-db, which it depends on, ended failed',
    );
    const drill = drillOf([ehr, portal]);
    expect(drill.passed).toBe(false);
    expect(drill.restoredAllMs).toBeNull();
    // No pass for what was not measured: the figures a history lists leave the RPO out.
    expect(historyFigures(drill.restoredAllMs, drill.services)).toEqual({});
    const markdown = renderReport(drill, 'md');
    expect(markdown).toMatch(/^# FAIL: drill .* of evacuation us-east-1/);
    expect(markdown).toMatch(
      /\| ehr-db \| databases \| failed \| N\/A \/ 15m \| \*\*N\/A\*\* \| N\/A \/ 1m \| \*\*N\/A\*\* \| \*\*FAIL\*\* \|/,
    );
    expect(markdown).toContain('Not every service was restored.');
  });

  test('THEN the JUnit report fails the whole-evacuation case and marks each service not measured', () => {
    const junit = renderReport(drillOf([ehr, portal]), 'junit');
    expect(junit.match(/<testsuite /g)).toHaveLength(3);
    expect(junit).toContain('name="every service restored"');
    expect(junit).toContain('<failure type="NotRestored"');
    // Both of ehr-db's objectives and the portal's RTO went unmeasured; its RPO cannot be measured at all, so it is
    // skipped with why (before: an error "the drill ended before this objective was measured", which was not why).
    expect(junit.match(/<error type="NotMeasured"/g)).toHaveLength(3);
    expect(junit).toMatch(/<skipped message="RPO not measurable: [^"]*primary\.connection/);
    expect(junit).toMatch(/<testsuites [^>]* errors="3"/);
  });
});

describe('GIVEN a drill of an evacuation an operator called off during its warm-up', () => {
  const calledOff = { by: 'alice', at: at(5000), reason: 'the real outage comes first' };
  const sentence = `Called off by alice at ${at(5000)}: the real outage comes first. Nothing was injected and nothing was measured.`;
  const unmeasured = (runbookId: string, wave: string) => ({
    ...serviceDrillResult(
      common,
      {
        ...(runbookId === 'ehr-db' ? ehrMeasurement : portalMeasurement),
        progress: progress(runbookId, wave, { state: 'aborted' }),
        injection: { action: 'fence-primary', injectedAt: at(0), summary: NOT_INJECTED },
        restoredAt: null,
        dataLoss: null,
        failover: null,
      },
      at(20_000),
    ),
    calledOff,
  });
  const error = `the drill's evacuation ended before the failure was injected (aborted): the drill stopped, nothing was injected`;
  const drill = {
    ...drillOf([unmeasured('ehr-db', 'databases'), unmeasured('portal', 'portal')], error),
    calledOff,
  };

  test('THEN every view heads it CALLED OFF with who, when and why, each service too, and none reads it as failed (before: FAIL, NotRestored, four errors)', () => {
    expect(drillOutcome(drill)).toBe('called-off');
    const markdown = renderReport(drill, 'md');
    expect(markdown).toMatch(/^# CALLED OFF: drill .* of evacuation us-east-1\n\nCalled off by alice/);
    expect(markdown).toContain('## Service ehr-db (wave databases): CALLED OFF');
    const junit = renderReport(drill, 'junit');
    expect(junit).not.toMatch(/<failure|<error/);
    expect(
      junit.match(new RegExp(`<skipped message="${sentence.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"/>`, 'g')),
    ).toHaveLength(5);
    expect(junit).toMatch(/<testsuites [^>]* failures="0" errors="0"/);
    const html = renderReport(drill, 'html');
    expect(html).toContain('data-outcome="called-off"');
    expect(html).toContain(
      '<span class="badge na" data-testid="badge">CALLED OFF</span> CALLED OFF: drill of evacuation',
    );
    const summary = renderEvacuationDrillSummary(drill).split('\n');
    expect(summary[0]).toContain('(evacuation us-east-1, fence-primary; nothing injected)');
    expect(summary[1]).toBe(`  ${sentence}`);
    // Each service too (before: FAIL in its row, a red badge, ✖ in the terminal).
    expect(markdown).toMatch(/\| ehr-db \| databases \| aborted \|.*\| \*\*CALLED OFF\*\* \|/);
    expect(markdown).not.toMatch(/\*\*FAIL\*\*|Drill error/);
    expect(html).not.toContain('badge fail');
    expect(html).toContain(
      `<p class="called-off" data-testid="drill-error">Drill stopped: ${escapeMarkup(error)}</p>`,
    );
    expect(summary.filter((line) => line.startsWith('  – '))).toHaveLength(2);
  });
});

describe('GIVEN a drill of an evacuation refused at its start (a runbook’s lock taken as it started: a scheduled drill, or a race with drctl’s check)', () => {
  const refusal =
    "the drill could not take every runbook's lock: waves[1].runbooks[0]: portal is held by failover-portal";
  const sentence = `Refused at its start: ${refusal}. Nothing was injected and nothing was measured.`;
  const unmeasured = (runbookId: string, wave: string, state: 'skipped' | 'refused') => ({
    ...serviceDrillResult(
      common,
      {
        ...(runbookId === 'ehr-db' ? ehrMeasurement : portalMeasurement),
        progress: progress(runbookId, wave, { state }),
        injection: { action: 'fence-primary', injectedAt: at(0), summary: NOT_INJECTED },
        restoredAt: null,
        dataLoss: null,
        failover: null,
      },
      at(20_000),
    ),
    refusal,
  });
  const drill = {
    ...drillOf(
      [unmeasured('ehr-db', 'databases', 'skipped'), unmeasured('portal', 'portal', 'refused')],
      `nothing was injected: ${refusal}`,
    ),
    refusal,
  };

  test('THEN every view heads it REFUSED and says why, each service too, and none reads it as failed (before: FAIL, NotRestored)', () => {
    expect(drillOutcome(drill)).toBe('refused');
    const markdown = renderReport(drill, 'md');
    expect(markdown).toMatch(
      /^# REFUSED: drill .* of evacuation us-east-1\n\nRefused at its start: the drill could not/,
    );
    expect(markdown).toMatch(/\| portal \| portal \| refused \|.*\| \*\*REFUSED\*\* \|/);
    expect(markdown).not.toMatch(/\*\*FAIL\*\*|Drill error/);
    const junit = renderReport(drill, 'junit');
    expect(junit).not.toMatch(/<failure|<error/);
    expect(junit.split(`<skipped message="${escapeMarkup(sentence)}"/>`)).toHaveLength(6);
    const html = renderReport(drill, 'html');
    expect(html).toContain('data-outcome="refused"');
    expect(html).not.toContain('badge fail');
    const summary = renderEvacuationDrillSummary(drill).split('\n');
    expect(summary[0]).toMatch(/: REFUSED \(evacuation us-east-1, fence-primary; nothing injected\)$/);
    expect(summary[1]).toBe(`  ${sentence}`);
  });
});

describe('GIVEN the report formats of a passed drill of an evacuation', () => {
  const drill = drillOf([
    serviceDrillResult(common, ehrMeasurement, at(20_000)),
    serviceDrillResult(common, portalMeasurement, at(20_000)),
  ]);

  test('THEN the JSON holds each service as its single-drill report with its contingency test', () => {
    const json = JSON.parse(renderReport(drill, 'json')) as {
      drillId: string;
      passed: boolean;
      services: Array<{ runbookId: string; contingencyTest: { results: Array<{ verdict: string }> } }>;
    };
    expect(Object.keys(json).slice(0, 5)).toEqual([
      'drillId',
      'evacuationId',
      'evacuationHash',
      'title',
      'passed',
    ]);
    expect(
      json.services.map((s) => `${s.runbookId}:${s.contingencyTest.results.map((r) => r.verdict).join(',')}`),
    ).toEqual(['ehr-db:met,met', 'portal:met,not applicable']);
  });

  test('THEN the HTML is one self-contained document with every service and no script', () => {
    const html = renderReport(drill, 'html');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('data-service="ehr-db" data-passed="true"');
    expect(html).toContain('data-testid="service-portal"');
    expect(html).not.toMatch(/<script|(src|href)="/);
  });
});

test('GIVEN options changed after signing THEN the start is refused naming each', () => {
  expect(
    optionsChangedSinceSigned(
      { action: 'fence-primary' },
      { action: 'fence-primary', inject: '', database: '' },
    ),
  ).toBeUndefined();
  expect(
    optionsChangedSinceSigned(
      { action: 'stop-primary', inject: 'stop-vm' },
      { action: 'fence-primary', inject: '', database: '' },
    ),
  ).toBe(
    'run refused by the access policy, nothing was changed: the drill\'s action, inject differ from what was signed (action: signed "fence-primary", sent "stop-primary"; inject: signed "", sent "stop-vm")',
  );
});

describe('GIVEN a bad evacuation to drill THEN drctl refuses it naming the field, before signing or connecting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drctl-evacuation-drill-'));
  const run = (args: string[]) =>
    runDrctl(args, { TEMPORAL_ADDRESS: '127.0.0.1:9', DRCTL_EVACUATIONS_DIR: dir });

  test.each([
    [
      'an unknown runbook',
      { waves: [{ id: 'w', runbooks: ['ehr-db', 'ghost-runbook'] }] },
      /waves\[0\]\.runbooks\[1\]: no runbook "ghost-runbook"/,
    ],
    [
      'a concurrency of 0',
      { waves: [{ id: 'w', runbooks: ['ehr-db'], concurrency: 0 }] },
      /waves\[0\]\.concurrency/,
    ],
  ])('%s', async (_what, body, says) => {
    const id = `bad-${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(join(dir, `${id}.json`), JSON.stringify({ id, title: id, ...body }));
    for (const command of ['run', 'schedule']) {
      const result = await run(['drill', command, id, '--reason', 'drill']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(says);
    }
  });
});
