import { Option, type Command } from 'commander';
import { formatMs } from '../../runbooks/duration';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { listRuns, RUN_KINDS, RUN_STATUSES, type RunFilters } from '../runs';
import { connectClient } from '../temporal-connection';
import { terminalSafe } from '../terminal-safe';

interface RunsFlags {
  runbook?: string;
  kind?: RunFilters['kind'];
  status?: RunFilters['status'];
  since?: string;
  limit: string;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description(
      'List failovers, failbacks, drills, plans and fence follow-ups drctl started, newest first, from Temporal. Runs of one runbook share its lock id (failover-<runbook>) and differ by run id.',
    )
    .option('--runbook <id>', 'only runs of this runbook')
    .addOption(new Option('--kind <kind>', 'only this kind of run').choices([...RUN_KINDS]))
    .addOption(new Option('--status <status>', 'only runs in this state').choices([...RUN_STATUSES]))
    .option('--since <when>', 'only runs started since a duration ago (24h, 7d) or a date (2026-11-01)')
    .option('--limit <n>', 'at most this many runs', '50')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl runs',
        '  drctl runs --runbook ehr-db --kind failover --status running',
        '  drctl runs --kind drill --since 90d --output json',
        '  drctl status failover-ehr-db --run-id <run id from this list>   # one earlier run',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, flags: RunsFlags) => {
        const limit = Number.parseInt(flags.limit, 10);
        if (!Number.isInteger(limit) || limit < 1 || String(limit) !== flags.limit.trim()) {
          throw new CliError(
            'BadLimit',
            `--limit must be a whole number of at least 1 (got "${flags.limit}")`,
            ExitCode.BadInput,
          );
        }
        const filters: RunFilters = {
          limit,
          ...(flags.runbook === undefined ? {} : { runbook: flags.runbook }),
          ...(flags.kind === undefined ? {} : { kind: flags.kind }),
          ...(flags.status === undefined ? {} : { status: flags.status }),
          ...(flags.since === undefined ? {} : { since: flags.since }),
        };
        const { client, close } = await connectClient(context.config());
        try {
          const runs = await listRuns(client, filters);
          if (context.output === 'json') return printJson(runs);
          if (runs.length === 0) {
            process.stdout.write('no runs match\n');
            return;
          }
          for (const run of runs) {
            const took = run.closedAt ? formatMs(Date.parse(run.closedAt) - Date.parse(run.startedAt)) : '';
            process.stdout.write(
              [
                run.workflowId.padEnd(32),
                run.runId.padEnd(36),
                run.kind.padEnd(15),
                (run.runbookId ?? '-').padEnd(20),
                run.status.padEnd(10),
                (run.outcome ?? '').padEnd(9),
                run.startedAt,
                took.padStart(7),
                terminalSafe(run.initiator ?? ''),
              ].join(' ') + '\n',
            );
          }
        } finally {
          await close();
        }
      }),
    );
}
