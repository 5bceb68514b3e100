import { z } from 'zod';
import { runbookSchema, type Runbook, type RunbookInput, type LeafStep } from './schema';
import { RunbookValidationError, formatPath, type RunbookIssue } from './runbook-validation-error';

/**
 * Validates a runbook and returns it as plain data with every default filled in. Throws a
 * `RunbookValidationError` listing every problem with its path; nothing is started on an invalid runbook.
 */
export function defineRunbook(input: RunbookInput): Runbook {
  const label =
    typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : '(no id)';
  const parsed = runbookSchema.safeParse(input);
  if (!parsed.success) {
    throw new RunbookValidationError(label, parsed.error.issues.map(toIssue));
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new RunbookValidationError(label, problems);
  return parsed.data;
}

function toIssue(issue: z.core.$ZodIssue): RunbookIssue {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return { path, message: `unknown value; allowed: ${issue.options.join(', ')}` };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return { path, message: 'required' };
  return { path, message: issue.message };
}

/** Every leaf step with its path, parallel groups flattened in order. */
export function leafSteps(runbook: Runbook): Array<{ step: LeafStep; path: string }> {
  return runbook.steps.flatMap((step, index) =>
    step.kind === 'parallel'
      ? step.steps.map((inner, innerIndex) => ({ step: inner, path: `steps[${index}].steps[${innerIndex}]` }))
      : [{ step, path: `steps[${index}]` }],
  );
}

/** Checks that span fields: unique ids, references to declared databases, DNS only after a promotion. */
function crossCheck(runbook: Runbook): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const seenIds = new Map<string, string>();
  const databases = runbook.targets.databases;
  const promotedBefore = new Set<string>();

  runbook.steps.forEach((step, index) => {
    const ids = step.kind === 'parallel' ? [step.id, ...step.steps.map((s) => s.id)] : [step.id];
    for (const id of ids) {
      const earlier = seenIds.get(id);
      if (earlier !== undefined)
        issues.push({ path: `steps[${index}].id`, message: `"${id}" is already used by ${earlier}` });
      else seenIds.set(id, `steps[${index}]`);
    }
    const group =
      step.kind === 'parallel'
        ? step.steps.map((s, i) => ({ s, p: `steps[${index}].steps[${i}]` }))
        : [{ s: step, p: `steps[${index}]` }];
    for (const { s, p } of group) {
      if ((s.kind === 'database.fence' || s.kind === 'database.promote') && !(s.database in databases)) {
        issues.push({ path: `${p}.database`, message: unknownDatabase(s.database, databases) });
      }
      if (s.kind === 'dns.switch') {
        s.records.forEach((record, r) => {
          if (record.pointTo === undefined) return;
          const where = `${p}.records[${r}].pointTo`;
          if (!(record.pointTo.database in databases)) {
            issues.push({
              path: `${where}.database`,
              message: unknownDatabase(record.pointTo.database, databases),
            });
          } else if (record.pointTo.member !== 'replica' || !promotedBefore.has(record.pointTo.database)) {
            issues.push({
              path: where,
              message:
                'DNS may only point at a database member this runbook has confirmed writable: ' +
                `add a database.promote step for "${record.pointTo.database}" before this step and point at its replica`,
            });
          }
        });
      }
    }
    // Promotions in a parallel group do not count for DNS in the same group: they may not have finished.
    for (const { s } of group) if (s.kind === 'database.promote') promotedBefore.add(s.database);
  });
  return issues;
}

function unknownDatabase(name: string, databases: Record<string, unknown>): string {
  const known = Object.keys(databases);
  return `no database "${name}" in targets.databases (declared: ${known.length > 0 ? known.join(', ') : 'none'})`;
}
