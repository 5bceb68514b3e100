import { durationToMs } from './duration';
import { leafSteps } from './cross-check';
import type { RunbookIssue } from './runbook-validation-error';
import type { Runbook } from './schema';

/**
 * What validates but would likely break the objectives: a step that may take longer than the whole RTO, a
 * replication lag accepted beyond the RPO. Shown by `validate`. A backup's
 * maxAge is not compared with the RPO: a failover recovers from the replica, the backup is the fallback.
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
