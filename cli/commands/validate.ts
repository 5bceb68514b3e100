import type { Command } from 'commander';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Check a runbook file (or a known runbook id) against the schema; lists every problem with its path.',
    )
    .argument('<runbook>', 'path to a .ts, .js or .json runbook, or a runbook id')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl validate runbooks/examples/ehr-db.ts\n  drctl validate my-runbook.json --output json\n\nWarnings (valid, but endangers the RTO or RPO) do not change the exit code. Exit code 2 when the runbook is invalid.',
    )
    .action(
      runCommand(async (context, reference: string) => {
        const { findRunbook } = await import('../../runbooks/catalog');
        const { leafSteps } = await import('../../runbooks/cross-check');
        const { runbookWarnings } = await import('../../runbooks/runbook-warnings');
        const { runbook, source } = findRunbook(reference, runbookDirs());
        const warnings = runbookWarnings(runbook);
        if (context.output === 'json') {
          printJson({
            valid: true,
            id: runbook.id,
            source,
            steps: leafSteps(runbook).length,
            warnings,
            runbook,
          });
        } else {
          process.stdout.write(
            `${runbook.id} is valid (${leafSteps(runbook).length} steps, from ${source})\n`,
          );
          for (const warning of warnings) {
            process.stdout.write(`  warning ${warning.path}: ${warning.message}\n`);
          }
        }
      }),
    );
}
