import { idPrefixes } from '../common/id-prefixes';
import { evacuationSha256 } from '../evacuations/evacuation-hash';
import type { Permission } from './permissions';
import type { OperatorStatement } from './statement';
import type { RunRecord } from './recorded-actions';

/**
 * What a recorded action's statement must be signed for, offline, by the rules the worker applied when it
 * accepted it:
 * - a run's own start is a start action (failover, failback, drill, evacuate, plan) for the run and its runbook;
 * - a scheduled drill starts on its schedule's `schedule create` statement, and a drill's evacuation on the
 *   drill's statement: each run's id extends its starter's;
 * - a start by a parent (a drill, or a schedule's drill, for its failover; an evacuation for its failovers) is the
 *   parent's start statement, and the run records its parent and its reason as `<parent>: <signed reason>`;
 * - an evacuation's start is signed for the evacuation: the record keeps the evacuation as signed, whose hash must
 *   recompute to the one signed and which must list this runbook with this hash; its signer must also hold
 *   failover on the runbook;
 * - an abort an evacuation forwarded is signed for the evacuation's run, under that same checked evacuation; its
 *   signer must also hold abort here.
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
}

const OWN_STARTS: readonly string[] = ['failover', 'failback', 'drill', 'evacuate', 'plan'];

/** The scope, or why the statement cannot be this run's at all. */
export function signedScope(
  record: RunRecord,
  action: string,
  statement: OperatorStatement,
): SignedScope | { problem: string } {
  const runbook = { id: record.runbookId, sha256: record.runbookHash, noun: 'runbook' as const };
  const evacuation = (cover: NonNullable<RunRecord['signedFor']>) => ({
    id: cover.id,
    sha256: cover.sha256,
    noun: 'evacuation' as const,
  });
  if (action !== 'start') {
    if (statement.runId === record.runId) return { subject: runbook, under: '' };
    const cover = record.signedFor;
    if (action !== 'abort' || cover === undefined || statement.runId !== cover.runId)
      return { problem: `signed for run ${statement.runId}, not ${record.runId}` };
    const problem = coverProblem(record);
    if (problem !== undefined) return { problem };
    return {
      subject: evacuation(cover),
      alsoRequires: 'abort',
      under: `, forwarded by evacuation run ${cover.runId}`,
    };
  }

  if (statement.runId === record.runId) {
    if (!OWN_STARTS.includes(statement.action))
      return { problem: `a "${statement.action}" statement does not start a run` };
    return { subject: runbook, under: '' };
  }
  if (!(record.startedBy ?? []).includes(statement.runId))
    return {
      problem: `signed for run ${statement.runId}, not ${[record.runId, ...(record.startedBy ?? [])].join(' or ')}`,
    };
  const scheduleCreate = statement.action === 'schedule' && statement.stepId === 'create';
  const parent = record.parent;
  if (parent === undefined) {
    // A run whose id extends its starter's, on its starter's statement: a scheduled drill (its schedule's
    // `schedule create`), a drill's evacuation (`<drill>-evacuation`, the drill's statement). Its reason is the signed one.
    if (
      (scheduleCreate || statement.action === 'drill') &&
      idPrefixes(record.runId).includes(statement.runId)
    )
      return { subject: runbook, under: `, in the start of ${statement.runId}` };
    return {
      problem: `this run was started by ${statement.runId}, whose start this record keeps too little of to re-check offline: verify that run (drctl verify-run ${statement.runId})`,
    };
  }
  if (!idPrefixes(parent).includes(statement.runId))
    return {
      problem: `the run names ${parent} as its parent, but its start was signed for run ${statement.runId}`,
    };
  const byParent = { reasonPrefix: parent, under: `, in the start of ${statement.runId}` };
  const cover = record.signedFor;
  if (cover === undefined) {
    if (statement.action !== 'drill' && !scheduleCreate)
      return { problem: `a "${statement.action}" statement does not start a drill's failover` };
    return { subject: runbook, ...byParent };
  }
  if (cover.runId !== parent)
    return {
      problem: `the run names ${parent} as its parent, but was started under evacuation run ${cover.runId}`,
    };
  const evacuates = statement.action === 'evacuate' && statement.runId === cover.runId;
  if (!evacuates && statement.action !== 'drill' && !scheduleCreate)
    return {
      problem: `a "${statement.action}" statement does not start a failover under evacuation ${cover.id}`,
    };
  const problem = coverProblem(record);
  if (problem !== undefined) return { problem };
  return {
    ...byParent,
    subject: evacuation(cover),
    alsoRequires: 'failover',
    under: `${byParent.under} (evacuation ${cover.id})`,
  };
}

/** Whether the evacuation the record keeps is the one signed and lists this runbook with this hash. */
function coverProblem(record: RunRecord): string | undefined {
  const cover = record.signedFor;
  if (cover === undefined) return 'the record names no evacuation it was started under';
  if (cover.cover === undefined)
    return `the record does not keep evacuation ${cover.id} as signed, so it cannot show that the evacuation lists this runbook: verify that run (drctl verify-run ${cover.runId})`;
  if (cover.cover.evacuation.id !== cover.id || evacuationSha256(cover.cover) !== cover.sha256)
    return `the evacuation the record keeps does not hash to the one it was started under (${cover.id} sha256 ${cover.sha256})`;
  if (cover.cover.runbookHashes[record.runbookId] !== record.runbookHash)
    return `evacuation ${cover.id} as signed does not list runbook ${record.runbookId} with sha256 ${record.runbookHash ?? '?'}`;
  return undefined;
}
