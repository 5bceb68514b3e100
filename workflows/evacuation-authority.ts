import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AuthActivities } from '../activities/auth/auth-contracts';
import { OperatorAuthority, type VerifiedAction } from '../auth/operator-authority';
import type { SignedStatement } from '../auth/signature';
import { PERMANENT_FAILURE_TYPES, PermanentFailure } from '../common/failure-types';
import type { EvacuationCover, EvacuationReference } from '../evacuations/evacuation-hash';
import type { Runbook } from '../runbooks/schema';
import { innermostMessage } from './innermost-message';
import {
  lookUpEarlierUse,
  recordBreakGlass,
  refuseIfUsedBefore,
  refused,
  rethrowCancel,
  verifyStart,
  type StartRule,
} from './run-authority';
import type { RunAuthorization } from './run-types';

const auth = proxyActivities<AuthActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES },
});

/** A start that passed the access policy: the reviewed evacuation and its runbooks, and who started it. */
export interface AuthorizedEvacuation {
  authority: OperatorAuthority;
  initiator: VerifiedAction;
  authorization: RunAuthorization;
  cover: EvacuationCover;
  runbooks: Record<string, Runbook>;
}

/** What a client sends to start a run over a reviewed evacuation: its id and hash, and the signed start. */
export interface EvacuationStart {
  evacuation: EvacuationReference;
  start: SignedStatement;
}

/**
 * Verifies the signed start against the worker's access policy (for this run, this evacuation and its hash; the
 * action's permission on the evacuation's id), loads the reviewed evacuation and its runbooks by that hash, and
 * checks that the signer may fail over every runbook of it. `rule` says which statements start this run: a fresh
 * `evacuate` (or `drill`) for this very run, or a standing one (the drill or schedule that started it). A refusal
 * ends the run before any child starts, naming the runbooks (by their place in the plan) the signer may not move.
 */
export async function authorizeEvacuation(
  request: EvacuationStart,
  rule: StartRule,
  what = 'an evacuation',
): Promise<AuthorizedEvacuation> {
  const earlierUse = lookUpEarlierUse(rule, request?.start);
  const policy = await auth.loadAccessPolicy().catch((error: unknown) => {
    rethrowCancel(error);
    throw refused(`the worker's access policy cannot be read: ${innermostMessage(error)}`);
  });
  const authority = new OperatorAuthority(policy);
  const reference = request?.evacuation;
  if (typeof reference?.id !== 'string' || typeof reference.sha256 !== 'string')
    throw refused('the start names no evacuation: send { evacuation: { id, sha256 }, start }');
  const { initiator, standing } = verifyStart(authority, request.start, rule, {
    runId: workflowInfo().workflowId,
    subject: reference,
    noun: 'evacuation',
  });
  if (earlierUse && !standing) await refuseIfUsedBefore(earlierUse, initiator);
  const reviewed = await auth
    .loadReviewedEvacuation({ evacuationId: reference.id, sha256: reference.sha256 })
    .catch((error: unknown) => {
      rethrowCancel(error);
      throw ApplicationFailure.nonRetryable(
        `evacuation refused, nothing was started: ${innermostMessage(error)}`,
        PermanentFailure.RunbookMismatch,
      );
    });
  const forbidden = reviewed.cover.evacuation.waves.flatMap((wave, w) =>
    wave.runbooks.flatMap((service, s) =>
      authority.allows(initiator.owner, 'failover', service.runbook)
        ? []
        : [`waves[${w}].runbooks[${s}] (${service.runbook})`],
    ),
  );
  if (forbidden.length > 0)
    throw refused(
      `not permitted: ${initiator.owner} may not fail over ${forbidden.join(', ')} under the access policy (sha256 ${policy.sha256.slice(0, 12)}…); ${what} needs failover on every runbook it runs`,
    );
  const authorization: RunAuthorization = {
    policySha256: policy.sha256,
    runbookId: reference.id,
    runbookHash: reviewed.sha256,
    ...(standing ? { startedBy: [initiator.signed.statement.runId] } : {}),
    ...(initiator.signed.statement.detail?.force === undefined
      ? {}
      : { forcedPastPlan: initiator.signed.statement.detail.force }),
    breakGlassUses: [],
  };
  if (initiator.breakGlass) recordBreakGlass(authorization, initiator, initiator.signed.statement.action);
  return { authority, initiator, authorization, cover: reviewed.cover, runbooks: reviewed.runbooks };
}
