import { CliError, ExitCode, type ExitCodeValue } from './cli-error';
import { confirmStart } from './confirm';
import { planFailover, startFailover, type RunTarget } from './failover-runs';
import { followRun } from './follow-run';
import { note, printJson } from './output';
import { renderPlan, renderSummary } from './render';
import type { CommandContext } from './run-command';
import { connectClient } from './temporal-connection';
import { requireWorker } from './worker-presence';

export interface FailoverFlags {
  reason?: string;
  dryRun?: boolean;
  yes?: boolean;
  follow?: boolean;
}

/**
 * Plans, confirms, starts and (with --follow) shows a failover of a reviewed runbook; shared by failover and
 * failback. The plan and the start are signed with the operator's key; the worker runs its own reviewed copy.
 */
export async function runFailover(
  context: CommandContext,
  target: RunTarget,
  flags: FailoverFlags,
): Promise<ExitCodeValue> {
  const { runbook } = target;
  const reason = flags.reason?.trim();
  if (!reason) {
    throw new CliError(
      'ReasonRequired',
      '--reason is required: say why (an incident id, a drill name); it is recorded with the run',
      ExitCode.BadInput,
    );
  }
  const config = context.config();
  const signer = context.signer();
  const { client, close } = await connectClient(config);
  try {
    await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
    if (flags.dryRun || !flags.yes) {
      const plan = await planFailover(client, config.temporal.taskQueue, target, signer);
      if (flags.dryRun) {
        if (context.output === 'json') printJson(plan);
        else process.stdout.write(`${renderPlan(plan)}\n`);
        return plan.ready ? ExitCode.Ok : ExitCode.Failed;
      }
      note(renderPlan(plan));
      await confirmStart(runbook.id);
    }
    if (signer.breakGlass)
      note('BREAK-GLASS: this start is signed with a break-glass key and will be reported');
    const workflowId = await startFailover(client, config.temporal.taskQueue, target, {
      reason,
      signer,
      now: new Date(),
    });
    if (!flags.follow) {
      if (context.output === 'json') printJson({ workflowId, status: 'started' });
      else
        process.stdout.write(`started ${workflowId}\nfollow it with: drctl status ${workflowId} --follow\n`);
      return ExitCode.Ok;
    }
    if (context.output === 'text') note(`started ${workflowId}`);
    const result = await followRun(client, workflowId, { live: context.output === 'text' });
    if (context.output === 'json') printJson(result);
    // The steps were shown live on stderr; stdout gets the outcome.
    else process.stdout.write(`${renderSummary(result)}\n`);
    return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await close();
  }
}
