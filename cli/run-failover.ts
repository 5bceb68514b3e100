import type { Runbook } from '../runbooks/schema';
import { CliError, ExitCode, type ExitCodeValue } from './cli-error';
import { confirmStart } from './confirm';
import { planFailover, startFailover } from './failover-runs';
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
  /** Start although the plan is not ready; the reason is recorded with the run. */
  force?: string;
}

/** Plans, confirms, starts and (with --follow) shows a failover of `runbook`; shared by failover and failback. */
export async function runFailover(
  context: CommandContext,
  runbook: Runbook,
  flags: FailoverFlags,
  kind: 'failover' | 'failback' = 'failover',
): Promise<ExitCodeValue> {
  const reason = flags.reason?.trim();
  if (!reason) {
    throw new CliError(
      'ReasonRequired',
      '--reason is required: say why (an incident id, a drill name); it is recorded with the run',
      ExitCode.BadInput,
    );
  }
  const config = context.config();
  const { client, close } = await connectClient(config);
  try {
    await requireWorker(client, config.temporal.namespace, config.temporal.taskQueue);
    if (flags.dryRun || !flags.yes) {
      const plan = await planFailover(client, config.temporal.taskQueue, runbook);
      if (flags.dryRun) {
        if (context.output === 'json') printJson(plan);
        else process.stdout.write(`${renderPlan(plan)}\n`);
        return plan.ready ? ExitCode.Ok : ExitCode.Failed;
      }
      note(renderPlan(plan));
      if (!plan.ready && !flags.force?.trim()) {
        throw new CliError(
          'PlanNotReady',
          `not starting: the plan for ${runbook.id} is NOT ready (${plan.failedChecks} check${plan.failedChecks === 1 ? '' : 's'} failed, shown above). ` +
            'Fix what failed and run `drctl plan` again, or, if you know why it fails and must go on, pass --force "<why>" (recorded with the run).',
          ExitCode.Refused,
        );
      }
      await confirmStart(runbook.id);
    }
    const force = flags.force?.trim();
    const { workflowId, runId } = await startFailover(client, config.temporal.taskQueue, runbook, {
      reason,
      initiator: config.operator.identity,
      ...(force ? { forceReason: force } : {}),
      kind,
    });
    if (!flags.follow) {
      if (context.output === 'json') printJson({ workflowId, runId, status: 'started' });
      else
        process.stdout.write(
          `started ${workflowId} (run ${runId})\nfollow it with: drctl status ${workflowId} --follow\n`,
        );
      return ExitCode.Ok;
    }
    if (context.output === 'text') note(`started ${workflowId} (run ${runId})`);
    const result = await followRun(client, workflowId, { live: context.output === 'text', runId });
    if (context.output === 'json') printJson(result);
    // The steps were shown live on stderr; stdout gets the outcome.
    else process.stdout.write(`${renderSummary(result)}\n`);
    return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await close();
  }
}
