import type { RunbookIamPolicy } from '../security/iam/compose-policy';
import { terminalSafe } from './terminal-safe';

/** The policy for people: per step, what each statement allows, on what, and why. */
export function renderIamPolicy(result: RunbookIamPolicy): string {
  const lines = [`IAM policy for the worker running ${terminalSafe(result.runbook)}`, ''];
  for (const group of result.groups) {
    lines.push(
      group.step === null ? 'worker (every run)' : `step ${terminalSafe(group.step.id)} (${group.step.kind})`,
    );
    for (const grant of group.grants) {
      lines.push(`  ${grant.sid}: ${grant.why}`);
      lines.push(`    allow ${grant.actions.join(', ')}`);
      lines.push(`    on    ${grant.resources.map(terminalSafe).join(', ')}`);
      for (const [operator, keys] of Object.entries(grant.condition ?? {})) {
        for (const [key, values] of Object.entries(keys)) {
          lines.push(`    when  ${operator} ${key} = ${values.map(terminalSafe).join(', ')}`);
        }
      }
    }
    lines.push('');
  }
  if (result.groups.length === 0)
    lines.push('This runbook makes no AWS call: the worker needs no IAM permission.', '');
  lines.push(`${result.policy.Statement.length} statements. The policy document: --output json.`);
  return `${lines.join('\n')}\n`;
}
