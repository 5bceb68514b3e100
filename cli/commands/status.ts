import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { DrillResult } from '../../workflows/drill-types';
import type { PlanResult } from '../../workflows/run-types';
import { CliError, ExitCode, type ExitCodeValue } from '../cli-error';
import { fetchDrillResult } from '../drill-runs';
import { readRun } from '../failover-runs';
import { followRun } from '../follow-run';
import { printJson } from '../output';
import { renderPlan, renderSummary, renderTimeline } from '../render';
import { renderDrillSummary } from '../render-drill';
import { runCommand, type CommandContext } from '../run-command';
import { describeRun, type RunSummary } from '../runs';
import { connectClient } from '../temporal-connection';
import { terminalSafe } from '../terminal-safe';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'Show any drctl run: a failover or failback timeline (live while it runs), a drill verdict, or a plan. Says which kind of run the id names.',
    )
    .argument('<run-id>', 'an id printed by drctl or listed by `drctl runs`')
    .option('-f, --follow', 'keep showing steps until the run ends (failovers and failbacks)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  drctl status failover-ehr-db-20261127-081530',
        '  drctl status failover-ehr-db-20261127-081530 --follow',
        '  drctl status drill-ehr-db-20261127-090000',
        '  drctl status failover-ehr-db-20261127-081530 --output json',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { follow?: boolean }) => {
        const { client, close } = await connectClient(context.config());
        try {
          const run = await describeRun(client, workflowId);
          switch (run.kind) {
            case 'failover':
            case 'failback':
              return await failoverStatus(context, client, workflowId, flags.follow === true);
            case 'drill':
              return await drillStatus(context, client, run);
            case 'plan':
              return await planStatus(context, client, run);
            case 'evacuation':
              return await evacuationStatus(context, client, workflowId, flags.follow === true);
            case 'unknown':
              throw new CliError(
                'NotADrctlRun',
                `${workflowId} is a ${run.status.toLowerCase()} workflow that drctl did not start; list drctl's runs with \`drctl runs\``,
                ExitCode.BadInput,
              );
          }
        } finally {
          await close();
        }
      }),
    );
}

async function failoverStatus(
  context: CommandContext,
  client: Client,
  workflowId: string,
  follow: boolean,
): Promise<ExitCodeValue> {
  if (follow) {
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
    process.stdout.write(`${workflowId}: ${state.status}: ${terminalSafe(state.message)}\n`);
  }
  if (progress?.status === 'failed' || (state.closed && !state.result)) return ExitCode.Failed;
  return ExitCode.Ok;
}

async function evacuationStatus(
  context: CommandContext,
  client: Client,
  workflowId: string,
  follow: boolean,
): Promise<ExitCodeValue> {
  const { followEvacuation, readEvacuation } = await import('../evacuation-runs');
  const { evacuationSummary, evacuationTable } = await import('../render-evacuation');
  const progress = follow
    ? await followEvacuation(client, workflowId, { live: context.output === 'text' })
    : (await readEvacuation(client, workflowId)).progress;
  if (context.output === 'json') printJson(progress);
  else
    process.stdout.write(
      `${evacuationSummary(progress)}\n${follow ? '' : `${evacuationTable(progress).join('\n')}\n`}`,
    );
  return progress.status === 'failed' || progress.status === 'aborted' ? ExitCode.Failed : ExitCode.Ok;
}

async function drillStatus(context: CommandContext, client: Client, run: RunSummary): Promise<ExitCodeValue> {
  if (run.status === 'RUNNING') {
    const failoverId = `${run.workflowId}-failover`;
    const line = `${run.workflowId}: drill of ${run.runbookId ?? '?'} running since ${run.startedAt}; its failover: drctl status ${failoverId}`;
    if (context.output === 'json') printJson({ ...run, failoverId });
    else process.stdout.write(`${line}\n`);
    return ExitCode.Ok;
  }
  let result: DrillResult;
  try {
    result = await fetchDrillResult(client, run.workflowId);
  } catch (error) {
    throw new CliError(
      'DrillEndedWithoutResult',
      `${run.workflowId} is a drill that ended ${run.status.toLowerCase()} without a result (${terminalSafe((error as Error).message.split('\n')[0] ?? '')})`,
      ExitCode.Failed,
    );
  }
  if (context.output === 'json') printJson(result);
  else process.stdout.write(`${renderDrillSummary(result)}\n`);
  return result.passed ? ExitCode.Ok : ExitCode.Failed;
}

async function planStatus(context: CommandContext, client: Client, run: RunSummary): Promise<ExitCodeValue> {
  if (run.status !== 'COMPLETED') {
    if (context.output === 'json') printJson(run);
    else
      process.stdout.write(
        `${run.workflowId}: a plan of ${run.runbookId ?? '?'}, ${run.status.toLowerCase()}\n`,
      );
    return run.status === 'RUNNING' ? ExitCode.Ok : ExitCode.Failed;
  }
  const plan = (await client.workflow.getHandle(run.workflowId).result()) as PlanResult;
  if (context.output === 'json') printJson(plan);
  else
    process.stdout.write(`${run.workflowId}: a plan (drctl plan); it changed nothing\n${renderPlan(plan)}\n`);
  return plan.ready ? ExitCode.Ok : ExitCode.Failed;
}
