import type { BackupsInput, CheckResult, DrctlActivities } from '../activities/contracts';
import { leafStepsOf } from './leaf-steps';
import { innermostMessage } from './innermost-message';
import type { Runbook, StepOf } from '../runbooks/schema';

/**
 * The read-only checks pre-flight runs, derived from what the runbook is about to change: every database it
 * fences or promotes, every record it switches, every flag it sets, every backup it verifies. They run in
 * parallel; a check that cannot even run counts as a failed check, never as a pass.
 */
export async function runPreflightChecks(
  runbook: Runbook,
  activities: DrctlActivities,
): Promise<CheckResult[]> {
  const pending: Array<{ label: string; run: () => Promise<CheckResult[]> }> = [];
  const databases = new Set<string>();
  const flagNames = new Map<string, { project: string; environment: string; names: Set<string> }>();
  for (const step of leafStepsOf(runbook)) {
    switch (step.kind) {
      case 'database.fence':
      case 'database.promote':
        databases.add(step.database);
        break;
      case 'dns.switch':
        pending.push({
          label: `dns ${step.id}`,
          run: () =>
            activities.checkDnsRecords({
              zone: step.zone,
              records: step.records.map((record) => ({ name: record.name, type: record.type })),
            }),
        });
        break;
      case 'flags.set': {
        // Several flag steps (on before, off after) check each flag once.
        const key = `${step.project}/${step.environment}`;
        const names = flagNames.get(key) ?? {
          project: step.project,
          environment: step.environment,
          names: new Set<string>(),
        };
        for (const flag of step.flags) names.names.add(flag.name);
        flagNames.set(key, names);
        break;
      }
      case 'backups.verify':
        pending.push({
          label: `backups ${step.id}`,
          run: () => activities.checkBackups(backupsInput(runbook, step)),
        });
        break;
      default:
        break;
    }
  }
  for (const { project, environment, names } of flagNames.values()) {
    pending.push({
      label: `flags ${project}/${environment}`,
      run: () => activities.checkFlags({ project, environment, names: [...names] }),
    });
  }
  for (const name of databases) {
    const target = runbook.targets.databases[name];
    if (target)
      pending.push({ label: `database ${name}`, run: () => activities.checkDatabase({ name, target }) });
  }
  const results = await Promise.all(
    pending.map(async ({ label, run }) => {
      try {
        return await run();
      } catch (error) {
        return [{ check: `${label}: could not run`, ok: false, message: innermostMessage(error) }];
      }
    }),
  );
  return results.flat();
}

/** A backups step's input, its maximum age defaulting to the runbook's RPO: an older backup loses more data. */
export function backupsInput(runbook: Runbook, step: StepOf<'backups.verify'>): BackupsInput {
  return {
    bucket: step.bucket,
    prefix: step.prefix,
    maxAge: step.maxAge ?? runbook.objectives.rpo,
    lockMode: step.lockMode,
    minRetention: step.minRetention,
    ...(step.region === undefined ? {} : { region: step.region }),
  };
}
