import { CliError, ExitCode, type ExitCodeValue } from './cli-error';
import { confirmStart, requireTerminal } from './confirm';
import type { RunTarget } from './failover-runs';
import { openFailoverSession } from './failover-session';
import { followUpLines } from './follow-ups';
import { note, printJson } from './output';
import { renderPlan, renderSummary } from './render';
import type { CommandContext } from './run-command';

export interface FailoverFlags {
  reason?: string;
  dryRun?: boolean;
  yes?: boolean;
  follow?: boolean;
  /** Start although the plan is not ready; the reason is recorded with the run. */
  force?: string;
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
  // A dry run starts and records nothing, so it needs no reason.
  if (flags.dryRun) return showPlan(context, target);
  const reason = flags.reason?.trim();
  if (!reason) {
    throw new CliError(
      'ReasonRequired',
      '--reason is required: say why (an incident id, a drill name); it is recorded with the run',
      ExitCode.BadInput,
    );
  }
  const force = forceReasonOf(flags.force);
  const config = context.config();
  const signer = context.signer();
  const session = await openFailoverSession(config);
  try {
    // Without --yes the operator must confirm: refuse before planning when there is no terminal to ask on.
    if (!flags.yes) requireTerminal();
    let forcedPastPlan: string | undefined;
    // --force plans even with --yes: the run records it only past a plan that is NOT ready.
    if (!flags.yes || force) {
      const plan = await session.plan(target, signer);
      note(renderPlan(plan));
      if (!plan.ready && !force) {
        throw new CliError(
          'PlanNotReady',
          `not starting: the plan for ${runbook.id} is NOT ready (${plan.failedChecks} check${plan.failedChecks === 1 ? '' : 's'} failed, shown above). ` +
            'Fix what failed and run `drctl plan` again, or, if you know why it fails and must go on, pass --force "<why>" (recorded with the run).',
          ExitCode.Refused,
        );
      }
      forcedPastPlan = forcedReason(plan.ready, force);
      if (!flags.yes) await confirmStart(runbook.id);
    }
    if (signer.breakGlass)
      note('BREAK-GLASS: this start is signed with a break-glass key and will be reported');
    const { workflowId, runId } = await session.start(target, {
      reason,
      signer,
      now: new Date(),
      ...(forcedPastPlan ? { forceReason: forcedPastPlan } : {}),
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
    const result = await session.follow(workflowId, runId, { live: context.output === 'text' });
    // As `status --follow` says it: with the state of each follow-up the run started.
    const followUps = await session.followUpStates(result);
    if (context.output === 'json') printJson({ ...result, ...followUps });
    // The steps were shown live on stderr; stdout gets the outcome.
    else process.stdout.write(`${renderSummary(result)}\n${followUpLines(followUps)}`);
    return result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await session.close();
  }
}

/** --dry-run: the plan against current state, signed like a start; it changes nothing. */
async function showPlan(context: CommandContext, target: RunTarget): Promise<ExitCodeValue> {
  const config = context.config();
  const signer = context.signer();
  const session = await openFailoverSession(config);
  try {
    const plan = await session.plan(target, signer);
    if (context.output === 'json') printJson(plan);
    else process.stdout.write(`${renderPlan(plan)}\n`);
    return plan.ready ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await session.close();
  }
}

/**
 * The reason `--force` was given with (trimmed), undefined without --force. A blank one is bad input: taken as no
 * --force it would start as if the operator had not asked to go past the plan, and the refusal would then tell
 * them to pass the --force they just passed.
 */
export function forceReasonOf(force: string | undefined): string | undefined {
  if (force === undefined) return undefined;
  const reason = force.trim();
  if (!reason)
    throw new CliError(
      'ForceReasonRequired',
      '--force needs a reason: say why you go on past a plan that is not ready (it is recorded with the run)',
      ExitCode.BadInput,
    );
  return reason;
}

/**
 * The --force reason a start records: only past a plan that is NOT ready, so a run never claims it was forced
 * past a plan that was ready (a ready plan's --force is said and dropped).
 */
export function forcedReason(ready: boolean, force: string | undefined): string | undefined {
  if (!force) return undefined;
  if (!ready) return force;
  note('the plan is ready: --force is not needed, and is not recorded with the run');
  return undefined;
}
