import type { Command } from 'commander';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { evacuationDirs, runbookDirs } from '../runbook-dirs';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'Check a runbook or evacuation file (or a known id) against the schema; lists every problem with its path.',
    )
    .argument('<runbook>', 'path to a .ts, .js or .json runbook or evacuation, or its id')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl validate runbooks/examples/ehr-db.ts\n  drctl validate my-runbook.json --output json\n  drctl validate ./evacuate-us-east-1.ts          # an evacuation: its waves, and that each runbook exists\n\nWarnings (valid, but endangers the RTO or RPO) do not change the exit code. Exit code 2 when the file is invalid.',
    )
    .action(
      runCommand(async (context, reference: string) => {
        const { findEvacuation } = await import('../../evacuations/catalog');
        const evacuation = findEvacuation(reference, runbookDirs(), evacuationDirs());
        if (evacuation !== undefined) {
          const { waves, id } = evacuation.evacuation;
          const runbooks = Object.keys(evacuation.runbooks);
          if (context.output === 'json')
            printJson({
              valid: true,
              kind: 'evacuation',
              id,
              source: evacuation.source,
              runbooks,
              evacuation: evacuation.evacuation,
            });
          else
            process.stdout.write(
              `${id} is a valid evacuation (${waves.length} wave${waves.length === 1 ? '' : 's'}, ${runbooks.length} runbook${runbooks.length === 1 ? '' : 's'}, every one in the catalog; from ${evacuation.source})\n`,
            );
          return;
        }
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
