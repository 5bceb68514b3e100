import { durationToMs } from './duration';
import { leafSteps } from './cross-check';
import type { RunbookIssue } from './runbook-validation-error';
import type { Runbook } from './schema';

/**
 * What validates but would likely break the objectives: a step that may take longer than the whole RTO, a
 * lag or backup age accepted beyond the RPO. Shown by `validate`, `plan` and before a failover starts.
 */
export function runbookWarnings(runbook: Runbook): RunbookIssue[] {
  const warnings: RunbookIssue[] = [];
  const rtoMs = durationToMs(runbook.objectives.rto);
  const rpoMs = durationToMs(runbook.objectives.rpo);
  const { rto, rpo } = runbook.objectives;
  for (const { step, path } of leafSteps(runbook)) {
    // An approval's timeout is how long people may take to answer, not how long an attempt may take.
    if (step.kind !== 'approval' && durationToMs(step.timeout) > rtoMs) {
      warnings.push({
        path: `${path}.timeout`,
        message: `${step.timeout} is longer than the RTO objective (${rto}): one stuck attempt could use up the whole recovery time`,
      });
    }
    if (step.kind === 'wait' && durationToMs(step.duration) > rtoMs) {
      warnings.push({
        path: `${path}.duration`,
        message: `waits ${step.duration}, longer than the RTO objective (${rto})`,
      });
    }
    if (step.kind === 'backups.verify' && step.maxAge !== undefined && durationToMs(step.maxAge) > rpoMs) {
      warnings.push({
        path: `${path}.maxAge`,
        message: `accepts a backup ${step.maxAge} old, beyond the RPO objective (${rpo}): restoring it would lose more than the RPO allows`,
      });
    }
  }
  for (const [name, target] of Object.entries(runbook.targets.databases)) {
    if (durationToMs(target.maxLag) > rpoMs) {
      warnings.push({
        path: `targets.databases.${name}.maxLag`,
        message: `pre-flight accepts ${target.maxLag} of replication lag, beyond the RPO objective (${rpo})`,
      });
    }
  }
  return warnings;
}
