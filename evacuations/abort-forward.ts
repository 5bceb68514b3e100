import type { AbortForward, AbortRunAnswer, EvacuationProgress } from './evacuation-types';

/**
 * A failover's answer to a forwarded abort. Workers before `AbortRunAnswer` answered in words ("<id>: abort
 * accepted", "<id> had already ended", "<id>: abort not accepted (why)"), and their answers stay in histories.
 */
export function forwardAnswer(answer: AbortRunAnswer | string): AbortRunAnswer {
  if (typeof answer !== 'string') return answer;
  if (answer.endsWith(': abort accepted')) return { outcome: 'accepted' };
  if (answer.endsWith(' had already ended')) return { outcome: 'ended' };
  return { outcome: 'refused', detail: answer };
}

/**
 * The forwards that left a failover running as if no abort was sent (it refused the abort, or no answer came),
 * for services that did not end aborted all the same (an answer lost after the abort was taken).
 */
export function undeliveredAborts(progress: EvacuationProgress): AbortForward[] {
  return (progress.abortForwards ?? []).filter(
    (forward) =>
      (forward.outcome === 'refused' || forward.outcome === 'not-sent') &&
      progress.services.find((service) => service.workflowId === forward.workflowId)?.state !== 'aborted',
  );
}
