import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { runLockId } from '../../common/run-lock';
import { LEDGER_WORKFLOW_ID, LEDGER_WORKFLOW_TYPE } from '../../evidence/ledger-protocol';
import type { FailoverProgress, PlanResult } from '../../workflows/run-types';
import { CliError, ExitCode, type ExitCodeValue } from '../cli-error';
import { readRun, type RunState } from '../failover-runs';
import {
  followUpLine,
  followUpLines,
  followUpStates,
  readFollowUpOverGrpc,
  type FollowUpStates,
} from '../follow-ups';
import { printJson } from '../output';
import { renderPlan, renderSummary, renderTimeline } from '../render';
import { runCommand, type CommandContext } from '../run-command';
import { readLedger } from '../ledger-reader';
import { describeRun, type RunSummary } from '../runs';
import { CONNECT_TIMEOUT_MS, connectClient } from '../temporal-connection';
import { terminalSafe } from '../terminal-safe';

/** The HTTP read gives up after this; a server that answers at all answers a describe in milliseconds. */
const HTTP_TIMEOUT_MS = 2_000;
/** However long the HTTP read took, gRPC still gets this long to connect. */
const MIN_CONNECT_MS = 2_000;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'Show any drctl run: a failover or failback timeline (live while it runs), a drill verdict, or a plan. Says which kind of run the id names.',
    )
    .argument('<run-id>', 'an id printed by drctl or listed by `drctl runs`')
    .option(
      '--run-id <temporal-run-id>',
      'which run of that id: runs of one runbook share its lock id (default: the latest)',
    )
    .option(
      '-f, --follow',
      'keep showing it until the run ends (failovers, failbacks and evacuations: the live table; a drill: its failover, then the verdict)',
    )
    .addHelpText(
      'after',
      [
        '',
        'Failovers and failbacks of a runbook run under its lock id, failover-<runbook>: status shows the latest',
        'run; --run-id picks an earlier one (`drctl runs --runbook <id>` lists them).',
        '',
        'Examples:',
        '  drctl status failover-ehr-db',
        '  drctl status failover-ehr-db --follow',
        '  drctl status failover-ehr-db --run-id 0193c1d2-7c1e-7a3b-9f4e-2b8d6f0a1c55',
        '  drctl status drill-ehr-db-20261127-090000-3fa2c1',
        '  drctl status drill-us-east-1-20261127-090000-3fa2c1             # a drill of an evacuation: each service',
        '  drctl status fence-follow-up-ehr-db-ehr',
        '  drctl status failover-ehr-db --output json',
      ].join('\n'),
    )
    .action(
      runCommand(async (context, workflowId: string, flags: { follow?: boolean; runId?: string }) => {
        const started = performance.now();
        let described: RunSummary | undefined;
        if (flags.follow !== true) {
          const { readFailoverOverHttp } = await import('../http-run-reader');
          const read = await readFailoverOverHttp(context.config(), workflowId, flags.runId, {
            timeoutMs: HTTP_TIMEOUT_MS,
          });
          if (read?.state !== undefined) return showFailover(context, read.run, read.state, async () => ({}));
          described = read?.run;
        }
        // Whatever the HTTP read took comes off the gRPC connect's time, so Temporal being down is still said in time.
        const { client, close } = await connectClient(context.config(), {
          connectTimeoutMs: Math.max(MIN_CONNECT_MS, CONNECT_TIMEOUT_MS - (performance.now() - started)),
        });
        try {
          const run = described ?? (await describeRun(client, workflowId, flags.runId));
          switch (run.kind) {
            case 'failover':
            case 'failback':
              return await failoverStatus(context, client, run, flags.follow === true);
            case 'drill':
              return await drillStatus(context, client, run, flags.follow === true);
            case 'plan':
              return await planStatus(context, client, run);
            case 'evacuation':
              return await evacuationStatus(context, client, workflowId, flags.follow === true);
            case 'fence-follow-up':
              return await followUpStatus(context, client, run);
            case 'unknown':
              if (run.workflowType === LEDGER_WORKFLOW_TYPE) return await ledgerStatus(context, client);
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
  run: RunSummary,
  follow: boolean,
): Promise<ExitCodeValue> {
  const { workflowId, runId } = run;
  if (follow) {
    const { followRun } = await import('../follow-run');
    const result = await followRun(client, workflowId, { live: context.output === 'text', runId });
    const followUps = await followUpStates(readFollowUpOverGrpc(client), result);
    if (context.output === 'json') printJson({ ...result, ...followUps });
    else process.stdout.write(`${renderSummary(result)}\n${followUpLines(followUps)}`);
    return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
  }
  const state = await readRun(client, workflowId, runId, run.status);
  return showFailover(context, run, state, (progress) =>
    followUpStates(readFollowUpOverGrpc(client), progress),
  );
}

/** Prints a failover's or failback's state, with the state of each follow-up it started (`followUps`). */
async function showFailover(
  context: CommandContext,
  run: RunSummary,
  state: RunState,
  followUps: (progress: Pick<FailoverProgress, 'followUps'>) => Promise<FollowUpStates>,
): Promise<ExitCodeValue> {
  const { workflowId, runId } = run;
  const progress = state.closed ? state.result : state.progress;
  if (context.output === 'json') {
    printJson(
      progress
        ? { ...progress, ...(await followUps(progress)) }
        : {
            workflowId,
            runId,
            status: 'status' in state ? state.status : 'unknown',
            outcome: run.outcome,
            initiator: run.initiator,
            startedAt: run.startedAt,
            ...('message' in state ? { message: state.message } : {}),
          },
    );
  } else if (progress) {
    process.stdout.write(
      `${renderSummary(progress)} run ${runId}\n${renderTimeline(progress)}\n${followUpLines(await followUps(progress))}`,
    );
  } else if ('status' in state) {
    // A start refused before it ran (the policy, a lock) is a run of the lock too: say whose and why, and where
    // the runs before it are, so it does not hide the one that did run.
    const who = `run ${runId}, started ${run.startedAt}${run.initiator ? ` by ${terminalSafe(run.initiator)}` : ''}`;
    process.stdout.write(
      `${workflowId}: ${run.outcome ?? state.status.toLowerCase()} (${who}): ${terminalSafe(state.message)}\n` +
        `  ${UNBEGUN_OUTCOME_LINES[run.outcome ?? ''] ?? ''}earlier runs: drctl runs --runbook ${run.runbookId ?? '<runbook>'}, then drctl status ${workflowId} --run-id <run id>\n`,
    );
  }
  // As the help says: 1 when it failed or was aborted (a closed run's result), or ended without a result.
  if (progress?.status === 'failed' || progress?.status === 'aborted' || (state.closed && !state.result))
    return ExitCode.Failed;
  return ExitCode.Ok;
}

/** What `status` says of a run that ended before it began, by its recorded outcome. */
const UNBEGUN_OUTCOME_LINES: Record<string, string> = {
  refused: 'refused before it began, it changed nothing; ',
  canceled: 'cancelled through Temporal while its start was verified, it changed nothing; ',
};

async function evacuationStatus(
  context: CommandContext,
  client: Client,
  workflowId: string,
  follow: boolean,
): Promise<ExitCodeValue> {
  const { evacuationJson, followEvacuation, readEvacuation } = await import('../evacuation-runs');
  const { evacuationSummary, evacuationTable } = await import('../render-evacuation');
  const read = follow
    ? await followEvacuation(client, workflowId, { live: context.output === 'text' })
    : await readEvacuation(client, workflowId);
  const { progress } = read;
  if (context.output === 'json') printJson(evacuationJson(read));
  else
    process.stdout.write(
      `${evacuationSummary(progress, read.refusal)}\n${follow ? '' : `${evacuationTable(progress).join('\n')}\n`}`,
    );
  return progress.status === 'failed' || progress.status === 'aborted' ? ExitCode.Failed : ExitCode.Ok;
}

async function drillStatus(
  context: CommandContext,
  client: Client,
  run: RunSummary,
  follow: boolean,
): Promise<ExitCodeValue> {
  if (run.workflowType === 'evacuationDrillWorkflow')
    return evacuationDrillStatus(context, client, run, follow);
  const { fetchDrillResult, followDrill } = await import('../drill-runs');
  if (run.status === 'RUNNING' && !follow) {
    const failoverId = runLockId(run.runbookId ?? '?');
    const line = `${run.workflowId}: drill of ${run.runbookId ?? '?'} running since ${run.startedAt}; its failover: drctl status ${failoverId} (or follow the drill: drctl status ${run.workflowId} --follow)`;
    if (context.output === 'json') printJson({ ...run, failoverId });
    else
      process.stdout.write(`${line}
`);
    return ExitCode.Ok;
  }
  const { renderDrillSummary } = await import('../render-drill');
  // One that ended without a result says how and why (fetchDrillResult).
  const result =
    run.status === 'RUNNING'
      ? await followDrill(client, run.workflowId, context.output === 'text')
      : await fetchDrillResult(client, run.workflowId, run.runId);
  if (context.output === 'json') printJson(result);
  else process.stdout.write(`${renderDrillSummary(result)}\n`);
  return result.passed ? ExitCode.Ok : ExitCode.Failed;
}

/** A drill of an evacuation: where its evacuation is while it runs (or, followed, live), then each service's verdict. */
async function evacuationDrillStatus(
  context: CommandContext,
  client: Client,
  run: RunSummary,
  follow: boolean,
): Promise<ExitCodeValue> {
  const evacuationId = `${run.workflowId}-evacuation`;
  const { fetchEvacuationDrillResult, followEvacuationDrill } = await import('../drill-runs');
  if (run.status === 'RUNNING' && !follow) {
    const line = `${run.workflowId}: drill of evacuation ${run.runbookId ?? '?'} running since ${run.startedAt}; its evacuation: drctl status ${evacuationId} (or follow the drill: drctl status ${run.workflowId} --follow)`;
    if (context.output === 'json') printJson({ ...run, evacuationId });
    else process.stdout.write(`${line}\n`);
    return ExitCode.Ok;
  }
  const { renderEvacuationDrillSummary } = await import('../render-drill');
  const result =
    run.status === 'RUNNING'
      ? await followEvacuationDrill(client, run.workflowId, context.output === 'text')
      : await fetchEvacuationDrillResult(client, run.workflowId, run.runId);
  if (context.output === 'json') printJson(result);
  else process.stdout.write(`${renderEvacuationDrillSummary(result)}\n`);
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

/** The evidence ledger: drctl's own workflow, which writes every run's bundle. */
async function ledgerStatus(context: CommandContext, client: Client): Promise<ExitCodeValue> {
  const ledger = await readLedger(client);
  if (context.output === 'json') {
    printJson({ workflowId: LEDGER_WORKFLOW_ID, ...ledger });
    return ledgerHealthy(ledger) ? ExitCode.Ok : ExitCode.Failed;
  }
  const lines = [
    `${LEDGER_WORKFLOW_ID} (the evidence ledger, which writes every run's bundle): ${ledger?.status ?? 'never started'}`,
  ];
  if (ledger?.status !== 'RUNNING')
    lines.push(
      '  the next run that ends starts it again; requests it held when it stopped are lost: `drctl evidence verify` names the runs left without a bundle',
    );
  else if (ledger.state === undefined)
    lines.push(`  its queue could not be read: ${ledger.unanswered ?? 'no answer'}`);
  else {
    const { written, lastWritten, pending, blocked } = ledger.state;
    lines.push(
      `  bundles written by this ledger: ${written}${lastWritten ? `; the last, #${lastWritten.sequence}, of ${lastWritten.workflowId}` : ''}`,
      pending.length === 0
        ? '  queue: empty'
        : `  queue: ${pending.length} run(s) waiting; next ${pending[0]!.workflowId} run ${pending[0]!.runId} (asked ${pending[0]!.requestedAt})`,
      ...(blocked ? [`  ⚠ blocked: ${terminalSafe(blocked)}`] : []),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ledgerHealthy(ledger) ? ExitCode.Ok : ExitCode.Failed;
}

/** Running, answering, and not stuck on a run: anything else fails the status (exit 1) for a script to notice. */
function ledgerHealthy(ledger: Awaited<ReturnType<typeof readLedger>>): boolean {
  return ledger?.status === 'RUNNING' && ledger.state !== undefined && ledger.state.blocked === undefined;
}

async function followUpStatus(
  context: CommandContext,
  client: Client,
  run: RunSummary,
): Promise<ExitCodeValue> {
  const state = await readFollowUpOverGrpc(client)(run.workflowId, run.runId);
  if (context.output === 'json') printJson({ workflowId: run.workflowId, runId: run.runId, ...state });
  else process.stdout.write(`${followUpLine(run.workflowId, state)}\n`);
  return ExitCode.Ok;
}
