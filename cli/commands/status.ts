import type { Command } from 'commander';
import { ExitCode } from '../cli-error';
import { readRun } from '../failover-runs';
import { followRun } from '../follow-run';
import { printJson } from '../output';
import { renderSummary, renderTimeline } from '../render';
import { runCommand } from '../run-command';
import { connectClient } from '../temporal-connection';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("Show a failover run's timeline: live while it runs, as recorded once it has ended.")
    .argument('<workflow-id>', 'the id `drctl failover` printed, e.g. failover-ehr-db-20261127-081530')
    .option('-f, --follow', 'keep showing steps until the run ends')
    .addHelpText(
      'after',
      '\nExamples:\n  drctl status failover-ehr-db-20261127-081530\n  drctl status failover-ehr-db-20261127-081530 --follow\n  drctl status failover-ehr-db-20261127-081530 --output json',
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { follow?: boolean }) => {
        const { client, close } = await connectClient(context.config());
        try {
          if (flags.follow) {
            const result = await followRun(client, workflowId, { live: context.output === 'text' });
            if (context.output === 'json') printJson(result);
            else process.stdout.write(`${renderSummary(result)}\n`);
            return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
          }
          const state = await readRun(client, workflowId);
          const progress = state.closed ? state.result : state.progress;
          if (context.output === 'json') {
            printJson(progress ?? { workflowId, status: 'status' in state ? state.status : 'unknown' });
          } else if (progress) {
            process.stdout.write(`${renderSummary(progress)}\n${renderTimeline(progress)}\n`);
          } else if ('status' in state) {
            process.stdout.write(`${workflowId}: ${state.status}: ${state.message}\n`);
          }
          if (progress?.status === 'failed' || (state.closed && !state.result)) return ExitCode.Failed;
          return ExitCode.Ok;
        } finally {
          await close();
        }
      }),
    );
}
