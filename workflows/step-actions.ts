import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { CheckResult, DnsRecordChange, DrctlActivities, StepOutcome } from '../activities/contracts';
import { PermanentFailure } from '../common/failure-types';
import { durationToMs } from '../runbooks/duration';
import type { LeafStep, Runbook, StepOf } from '../runbooks/schema';
import { activityOptionsFor } from './activity-options';
import { backupsInput, runPreflightChecks } from './preflight-checks';

export type StepResult = Partial<StepOutcome> & { checks?: CheckResult[] };

/** State the steps of one run share: which database members have been confirmed writable, and where. */
export interface RunState {
  runbook: Runbook;
  /** Database name → endpoint of the member a promotion confirmed writable. DNS may point only here. */
  confirmedWritable: Map<string, string>;
}

/** What steps may ask of the run: an operator's approval (null when the run was aborted instead). */
export interface RunControls {
  awaitApproval(
    stepId: string,
    options: { prompt: string; twoPerson: boolean; timeoutMs?: number },
  ): Promise<string | null>;
}

/** Performs one leaf step through its activities, with the step's own timeout and retry policy. */
export async function performStep(
  step: LeafStep,
  state: RunState,
  controls: RunControls,
  onChecks: (checks: CheckResult[]) => void,
): Promise<StepResult> {
  const activities = proxyActivities<DrctlActivities>(activityOptionsFor(step));
  const { runbook } = state;
  switch (step.kind) {
    case 'preflight': {
      const checks = await runPreflightChecks(runbook, activities);
      onChecks(checks);
      const failed = checks.filter((check) => !check.ok);
      if (failed.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `${failed.length} of ${checks.length} pre-flight checks failed, nothing was changed: ` +
            failed.map((check) => `${check.check}: ${check.message}`).join('; '),
          PermanentFailure.PreflightFailed,
        );
      }
      return { changed: false, summary: `${checks.length} pre-flight checks passed`, checks };
    }
    case 'database.fence': {
      const outcome = await activities.fenceDatabase({
        name: step.database,
        target: databaseTarget(runbook, step.database),
      });
      if (outcome.facts.primaryReachable !== false) return outcome;
      // An unreachable primary cannot be fenced: going on risks two primaries, so a person decides, on record.
      const approvedBy = await controls.awaitApproval(step.id, {
        prompt: `the old primary of "${step.database}" is unreachable and could not be fenced; approve to promote without a fence`,
        twoPerson: false,
      });
      if (approvedBy === null) {
        throw ApplicationFailure.nonRetryable(
          'the run was aborted while waiting to proceed unfenced',
          'Aborted',
        );
      }
      return { ...outcome, summary: `${outcome.summary}; proceeding unfenced, approved by ${approvedBy}` };
    }
    case 'database.promote': {
      const outcome = await activities.promoteDatabase({
        name: step.database,
        target: databaseTarget(runbook, step.database),
      });
      state.confirmedWritable.set(step.database, outcome.writableEndpoint);
      return outcome;
    }
    case 'dns.switch':
      return activities.switchDns({
        zone: step.zone,
        records: recordsToWrite(step, state.confirmedWritable),
        checkResolution: step.checkResolution,
      });
    case 'flags.set':
      return activities.setFlags({ project: step.project, environment: step.environment, flags: step.flags });
    case 'backups.verify':
      return activities.verifyBackups(backupsInput(runbook, step));
    case 'probe':
      return activities.runProbe({ probe: step.probe });
    case 'wait':
      await sleep(durationToMs(step.duration));
      return { changed: false, summary: `waited ${step.duration}` };
    case 'approval': {
      const approvedBy = await controls.awaitApproval(step.id, {
        prompt: step.prompt ?? step.title ?? `approve step ${step.id}`,
        twoPerson: step.twoPerson,
        timeoutMs: durationToMs(step.timeout),
      });
      if (approvedBy === null)
        throw ApplicationFailure.nonRetryable('the run was aborted before approval', 'Aborted');
      return {
        changed: false,
        summary: `approved by ${approvedBy}${step.twoPerson ? ' (two-person rule)' : ''}`,
      };
    }
  }
}

/**
 * The record values a DNS step writes. A record that points at a database takes the endpoint its promotion
 * confirmed writable in this run; if there is none (the promotion failed and was continued past, or skipped),
 * the step refuses: switching clients to a database that may still be read-only would be an outage of its own.
 */
export function recordsToWrite(
  step: StepOf<'dns.switch'>,
  confirmedWritable: ReadonlyMap<string, string>,
): DnsRecordChange[] {
  return step.records.map((record) => {
    let value = record.value;
    if (record.pointTo !== undefined) {
      value = confirmedWritable.get(record.pointTo.database);
      if (value === undefined) {
        throw ApplicationFailure.nonRetryable(
          `refusing to point ${record.name} at database "${record.pointTo.database}": it has not been confirmed ` +
            'writable in this run (its promotion did not succeed). Promote it, then re-run or retry this step.',
          PermanentFailure.UnsafeOrder,
        );
      }
    }
    return { name: record.name, type: record.type, ttl: record.ttl, value: value as string };
  });
}

function databaseTarget(runbook: Runbook, name: string) {
  const target = runbook.targets.databases[name];
  if (target === undefined) {
    throw ApplicationFailure.nonRetryable(
      `no database "${name}" in the runbook's targets`,
      PermanentFailure.ConfigurationMissing,
    );
  }
  return target;
}
