import { proxyActivities } from '@temporalio/workflow';
import type { CheckResult, DrctlActivities, PlannedChange } from '../activities/contracts';
import type { LeafStep, Runbook } from '../runbooks/schema';
import { PLAN_ACTIVITY_OPTIONS } from './activity-options';
import { leafStepsOf } from './leaf-steps';
import { innermostMessage } from './innermost-message';
import { backupsInput, runPreflightChecks } from './preflight-checks';
import type { PlannedStep, PlanResult } from './run-types';

/**
 * Computes what a failover would do against current state, changing nothing. It runs on the worker (which
 * holds the credentials), so `drctl plan` needs no cloud access of its own.
 */
export async function planWorkflow(runbook: Runbook): Promise<PlanResult> {
  const activities = proxyActivities<DrctlActivities>(PLAN_ACTIVITY_OPTIONS);
  const plannedWritable = new Map<string, string>();
  const steps: PlannedStep[] = [];
  let ready = true;
  for (const step of leafStepsOf(runbook)) {
    const planned: PlannedStep = {
      stepId: step.id,
      kind: step.kind,
      changes: [],
      checks: [],
      ...(step.title === undefined ? {} : { title: step.title }),
    };
    try {
      await planStep(step, runbook, activities, plannedWritable, planned);
    } catch (error) {
      planned.checks.push({
        check: `${step.id}: could not plan`,
        ok: false,
        message: innermostMessage(error),
      });
    }
    if (step.kind === 'preflight' && planned.checks.some((check) => !check.ok)) ready = false;
    steps.push(planned);
  }
  return { runbookId: runbook.id, steps, ready };
}

async function planStep(
  step: LeafStep,
  runbook: Runbook,
  activities: DrctlActivities,
  plannedWritable: Map<string, string>,
  planned: PlannedStep,
): Promise<void> {
  const add = (changes: PlannedChange[]) => planned.changes.push(...changes);
  const check = (checks: CheckResult[]) => planned.checks.push(...checks);
  switch (step.kind) {
    case 'preflight':
      check(await runPreflightChecks(runbook, activities));
      return;
    case 'database.fence':
      add(
        await activities.planFence({
          name: step.database,
          target: runbook.targets.databases[step.database]!,
        }),
      );
      return;
    case 'database.promote': {
      const plan = await activities.planPromote({
        name: step.database,
        target: runbook.targets.databases[step.database]!,
      });
      plannedWritable.set(step.database, plan.writableEndpoint);
      add(plan.changes);
      return;
    }
    case 'dns.switch':
      add(
        await activities.planDnsSwitch({
          zone: step.zone,
          checkResolution: step.checkResolution,
          records: step.records.map((record) => ({
            name: record.name,
            type: record.type,
            ttl: record.ttl,
            value: record.pointTo
              ? (plannedWritable.get(record.pointTo.database) ?? '(not promoted)')
              : (record.value as string),
          })),
        }),
      );
      return;
    case 'flags.set':
      add(
        await activities.planFlags({
          project: step.project,
          environment: step.environment,
          flags: step.flags,
        }),
      );
      return;
    case 'backups.verify':
      check(await activities.checkBackups(backupsInput(runbook, step)));
      return;
    case 'probe':
      planned.note =
        step.probe.type === 'sql'
          ? `SQL ${step.probe.write ? 'write' : 'read'} probe with connection ${step.probe.connection}` +
            (step.probe.via ? ` through ${step.probe.via.record}` : '')
          : `HTTP GET ${step.probe.url}, expect ${step.probe.expectStatus}`;
      return;
    case 'wait':
      planned.note = `wait ${step.duration}`;
      return;
  }
}
