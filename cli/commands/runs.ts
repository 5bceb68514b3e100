import { Option, type Command } from 'commander';
import { formatMs } from '../../runbooks/duration';
import { CliError, ExitCode } from '../cli-error';
import { printJson } from '../output';
import { runCommand } from '../run-command';
import { listRuns, RUN_KINDS, RUN_STATUSES, runsQuery, type RunFilters } from '../runs';
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
      'List the failovers, failbacks, evacuations, drills, plans and fence follow-ups drctl started, newest first, from Temporal. Runs of one runbook share its lock id (failover-<runbook>) and differ by run id.',
    )
    .option('--runbook <id>', 'only runs of this runbook (its failbacks too) or evacuation')
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
          ...(flags.runbook === undefined ? {} : { runbook: flags.runbook }),
          ...(flags.kind === undefined ? {} : { kind: flags.kind }),
          ...(flags.status === undefined ? {} : { status: flags.status }),
          ...(flags.since === undefined ? {} : { since: flags.since }),
        };
        // Checked before connecting: a bad filter is bad input (exit 2) whether or not Temporal answers.
        const query = runsQuery(filters, new Date());
        const { client, close } = await connectClient(context.config());
        try {
          const runs = await listRuns(client, query, limit);
          if (context.output === 'json') return printJson(runs);
          if (runs.length === 0) {
            process.stdout.write('no runs match\n');
            return;
          }
          const { plainTable } = await import('../plain-table');
          const rows = runs.map((run) => [
            run.workflowId,
            run.runId,
            run.kind,
            terminalSafe(run.runbookId ?? '-'),
            run.status,
            run.outcome ?? '',
            run.startedAt,
            run.closedAt ? formatMs(Date.parse(run.closedAt) - Date.parse(run.startedAt)) : '',
            terminalSafe(run.initiator ?? ''),
          ]);
          const head = [
            'WORKFLOW ID',
            'RUN ID',
            'KIND',
            'RUNBOOK',
            'STATUS',
            'OUTCOME',
            'STARTED',
            'TOOK',
            'BY',
          ];
          const aligns = ['left', 'left', 'left', 'left', 'left', 'left', 'left', 'right', 'left'] as const;
          process.stdout.write(`${await plainTable(head, rows, [...aligns])}\n`);
        } finally {
          await close();
        }
      }),
    );
}
