import type { Command } from 'commander';
import { listRunbooks } from '../../runbooks/catalog';
import { leafSteps } from '../../runbooks/define-runbook';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';

export function registerRunbooks(program: Command): void {
  program
    .command('runbooks')
    .description('List the runbooks drctl knows: the bundled examples and those in DRCTL_RUNBOOKS_DIR.')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl runbooks\n  DRCTL_RUNBOOKS_DIR=./ops/runbooks drctl runbooks --output json',
    )
    .action(
      runCommand(async (context) => {
        const entries = listRunbooks(runbookDirs()).map(({ runbook, source }) => ({
          id: runbook.id,
          title: runbook.title,
          owner: runbook.owner,
          rto: runbook.objectives.rto,
          rpo: runbook.objectives.rpo,
          steps: leafSteps(runbook).length,
          source,
        }));
        if (context.output === 'json') return printJson(entries);
        for (const entry of entries) {
          process.stdout.write(
            `${entry.id.padEnd(22)} RTO ${entry.rto.padEnd(5)} RPO ${entry.rpo.padEnd(5)} ${String(entry.steps).padStart(2)} steps  ${entry.title}\n`,
          );
        }
      }),
    );
}
