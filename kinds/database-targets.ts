import { ApplicationFailure } from '@temporalio/common';
import { PermanentFailure } from '../common/failure-types';
import type { CheckResult, DatabaseInput } from '../activities/contracts';
import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Runbook } from '../runbooks/schema';
import type { PreflightRequest } from './step-kind';

/** Shared by the kinds that name a database of `targets.databases` (fence, promote, DNS `pointTo`). */

export function unknownDatabaseIssue(path: string, name: string, runbook: Runbook): RunbookIssue[] {
  if (name in runbook.targets.databases) return [];
  const known = Object.keys(runbook.targets.databases);
  return [
    {
      path,
      message: `no database "${name}" in targets.databases (declared: ${known.length > 0 ? known.join(', ') : 'none'})`,
    },
  ];
}

/** The database a step names, as activity input; a runbook that passed validation always has it. */
export function databaseInput(runbook: Runbook, name: string): DatabaseInput {
  const target = runbook.targets.databases[name];
  if (target === undefined) {
    throw ApplicationFailure.nonRetryable(
      `no database "${name}" in the runbook's targets`,
      PermanentFailure.ConfigurationMissing,
    );
  }
  return { name, target, mode: runbook.mode };
}

/** Pre-flight of a database is the same for every step that touches it: one request per database. */
export function databasePreflight<A extends { checkDatabase(input: DatabaseInput): Promise<CheckResult[]> }>(
  runbook: Runbook,
  name: string,
): PreflightRequest<A> {
  return {
    key: `database:${name}`,
    label: `database ${name}`,
    items: [],
    run: (activities: A) => activities.checkDatabase(databaseInput(runbook, name)),
  };
}
