import type { Command } from 'commander';
import { ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { runbookDirs } from '../runbook-dirs';
import { terminalSafe } from '../terminal-safe';

export function registerRunbooks(program: Command): void {
  program
    .command('runbooks')
    .description(
      'List the runbooks drctl knows (the bundled examples and those in DRCTL_RUNBOOKS_DIR), and every runbook file that is broken.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  drctl runbooks\n  DRCTL_RUNBOOKS_DIR=./ops/runbooks drctl runbooks --output json\n\nExit code 1 when a runbook file is broken (the good ones are still listed and usable).',
    )
    .action(
      runCommand(async (context) => {
        const { loadCatalog } = await import('../../runbooks/catalog');
        const { leafSteps } = await import('../../runbooks/cross-check');
        const { entries, broken } = loadCatalog(runbookDirs());
        const runbooks = entries.map(({ runbook, source }) => ({
          id: runbook.id,
          title: runbook.title,
          owner: runbook.owner,
          rto: runbook.objectives.rto,
          rpo: runbook.objectives.rpo,
          steps: leafSteps(runbook).length,
          source,
        }));
        if (context.output === 'json') {
          printJson({ runbooks, broken });
        } else {
          for (const entry of runbooks) {
            process.stdout.write(
              `${terminalSafe(entry.id).padEnd(22)} RTO ${entry.rto.padEnd(5)} RPO ${entry.rpo.padEnd(5)} ${String(entry.steps).padStart(2)} steps  ${terminalSafe(entry.title)}\n`,
            );
          }
          for (const entry of broken) {
            process.stdout.write(`BROKEN ${terminalSafe(entry.source)}\n`);
            for (const issue of entry.issues) {
              process.stdout.write(
                `    ${terminalSafe(issue.path || '(root)')}: ${terminalSafe(issue.message)}\n`,
              );
            }
          }
        }
        return broken.length > 0 ? ExitCode.Failed : ExitCode.Ok;
      }),
    );
}
