import { ApplicationFailure } from '@temporalio/common';
import { PermanentFailure } from '../common/failure-types';
import type { CheckResult, DatabaseInput } from '../activities/contracts';
import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import type { Runbook } from '../runbooks/schema';
import { databaseProvider } from '../providers/database/registry';
import type { PreflightRequest, RunContext } from './step-kind';

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

/** What a database step reads with before its effect: local activities where its provider's reads allow it. */
export function databaseReads<A>(
  context: Pick<RunContext<A>, 'activities' | 'reads'>,
  input: DatabaseInput,
): A {
  return databaseProvider(input.target.provider).readsLocally ? context.reads : context.activities;
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

/** An address in the form DNS values compare in: lower case, no trailing dot. */
function normalAddress(value: string): string {
  const lower = value.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * True when `value` (a DNS record value) names the same address as `address`: equal, or, for an AWS resource
 * id (`patient-portal-replica`), its endpoint (`patient-portal-replica.abc123.us-west-2.rds.amazonaws.com`),
 * whose first label is the id.
 */
export function namesAddress(value: string, address: string, kind: 'address' | 'resource id'): boolean {
  const normal = normalAddress(value);
  const wanted = normalAddress(address);
  if (normal === wanted) return true;
  return kind === 'resource id' && normal.split('.')[0] === wanted && normal.includes('.');
}

/**
 * Every address of a database target's members that a DNS value could name: each `endpoint` field (an address
 * clients use) and each `…Id` field (an AWS resource whose endpoint starts with its id), found by walking the
 * target, so a provider added later is covered without a change here.
 */
export function memberAddresses(
  target: unknown,
): Array<{ address: string; kind: 'address' | 'resource id'; path: string }> {
  const found: Array<{ address: string; kind: 'address' | 'resource id'; path: string }> = [];
  const walk = (node: unknown, path: string) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      const at = path ? `${path}.${key}` : key;
      if (typeof value === 'string') {
        if (key === 'endpoint') found.push({ address: value, kind: 'address', path: at });
        else if (/Id$/.test(key)) found.push({ address: value, kind: 'resource id', path: at });
      } else walk(value, at);
    }
  };
  walk(target, '');
  return found;
}

/**
 * The database of `runbook` whose member a DNS record value names, with the member's path in the target
 * (`replica.endpoint`), or undefined. Endpoints a promotion confirmed writable in this run count too.
 */
export function databaseNamedBy(
  value: string,
  runbook: Runbook,
  confirmedWritable: ReadonlyMap<string, string> = new Map(),
): { database: string; member: string } | undefined {
  for (const [database, target] of Object.entries(runbook.targets.databases)) {
    const confirmed = confirmedWritable.get(database);
    if (confirmed !== undefined && namesAddress(value, confirmed, 'address'))
      return { database, member: 'the member confirmed writable in this run' };
    for (const member of memberAddresses(target)) {
      if (namesAddress(value, member.address, member.kind)) return { database, member: member.path };
    }
  }
  return undefined;
}
