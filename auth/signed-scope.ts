import { idPrefixes } from '../common/id-prefixes';
import { evacuationSha256 } from '../evacuations/evacuation-hash';
import type { Permission } from './permissions';
import type { OperatorStatement } from './statement';
import type { RunRecord } from './recorded-actions';

/**
 * What a recorded action's statement must be signed for, offline, by the rules the worker applied when it
 * accepted it:
 * - the run's own statements name the run and its runbook;
 * - a start by a parent (a drill or schedule for its failover; an evacuation for its failovers) names the parent's
 *   run, and the run records its reason as `<parent>: <signed reason>`;
 * - an evacuation's start is signed for the evacuation: the record keeps the evacuation as signed, whose hash must
 *   recompute to the one signed and which must list this runbook with this hash; its signer must also hold failover
 *   on the runbook;
 * - an abort an evacuation forwarded is signed for the evacuation's run; its signer must also hold abort here.
 * Nothing the record claims about its parent is taken on trust: each claim must agree with the signed statement.
 */
export interface SignedScope {
  subject: { id: string; sha256?: string; noun: 'runbook' | 'evacuation' };
  /** The parent whose id prefixes the recorded reason of a start. */
  reasonPrefix?: string;
  /** A permission the signer must also hold on the run's own runbook. */
  alsoRequires?: Permission;
  /** How the verdict names where the statement came from (", in the start of …"). */
  under: string;
  /** Appended to a failure: the run keeps too little of its parent's start to re-check it offline. */
  hint: string;
}

const EVACUATION_STARTS: readonly string[] = ['evacuate', 'drill', 'schedule'];

/** The scope, or why the statement cannot be this run's at all. */
export function signedScope(
  record: RunRecord,
  action: string,
  statement: OperatorStatement,
): SignedScope | { problem: string } {
  const runbook = { id: record.runbookId, sha256: record.runbookHash, noun: 'runbook' as const };
  const cover = record.signedFor;
  if (action !== 'start') {
    if (statement.runId === record.runId) return { subject: runbook, under: '', hint: '' };
    if (action === 'abort' && cover !== undefined && statement.runId === cover.runId)
      return {
        subject: { id: cover.id, sha256: cover.sha256, noun: 'evacuation' },
        alsoRequires: 'abort',
        under: `, forwarded by evacuation run ${cover.runId}`,
        hint: '',
      };
    return { problem: `signed for run ${statement.runId}, not ${record.runId}` };
  }
  if (statement.runId === record.runId) return { subject: runbook, under: '', hint: '' };
  if (!(record.startedBy ?? []).includes(statement.runId))
    return {
      problem: `signed for run ${statement.runId}, not ${[record.runId, ...(record.startedBy ?? [])].join(' or ')}`,
    };

  const parent = record.parent;
  if (parent !== undefined && !idPrefixes(parent).includes(statement.runId))
    return {
      problem: `the run names ${parent} as its parent, but its start was signed for run ${statement.runId}`,
    };
  const hint =
    parent === undefined
      ? `; this run was started by ${statement.runId}, whose start this record keeps too little of to re-check offline: verify that run (drctl verify-run ${statement.runId})`
      : '';
  const byParent = {
    ...(parent === undefined ? {} : { reasonPrefix: parent }),
    under: `, in the start of ${statement.runId}`,
    hint,
  };
  if (cover === undefined) return { subject: runbook, ...byParent };

  if (!EVACUATION_STARTS.includes(statement.action))
    return {
      problem: `a ${statement.action} statement does not start a failover under evacuation ${cover.id}`,
    };
  if (!idPrefixes(cover.runId).includes(statement.runId))
    return {
      problem: `the run was started under evacuation run ${cover.runId}, but its start was signed for run ${statement.runId}`,
    };
  if (cover.cover === undefined)
    return {
      problem: `the record does not keep evacuation ${cover.id} as signed, so it cannot list this runbook${hint}`,
    };
  if (cover.cover.evacuation.id !== cover.id || evacuationSha256(cover.cover) !== cover.sha256)
    return {
      problem: `the evacuation the record keeps does not hash to the one it was started under (${cover.id} sha256 ${cover.sha256})`,
    };
  if (cover.cover.runbookHashes[record.runbookId] !== record.runbookHash)
    return {
      problem: `evacuation ${cover.id} as signed does not list runbook ${record.runbookId} with sha256 ${record.runbookHash ?? '?'}`,
    };
  return {
    ...byParent,
    subject: { id: cover.id, sha256: cover.sha256, noun: 'evacuation' },
    alsoRequires: 'failover',
    under: `${byParent.under} (evacuation ${cover.id})`,
  };
}
