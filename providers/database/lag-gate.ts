import type { CheckResult } from '../../activities/contracts';
import { isRegionUnreachable } from '../../activities/aws-region';
import { checkLine } from '../../activities/database/check-result';
import type { LagMetricsPort, LagQuery, LagReading } from '../../activities/database/lag-metrics-port';
import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { pollUntil } from '../../activities/poll-until';
import { durationToMs, formatMs } from '../../runbooks/duration';
import type { PollPacing, StepContext } from './strategy';

type Facts = Record<string, string | number | boolean | null>;

export interface LagTarget {
  maxLag: string;
  acceptUnknownLag: boolean;
}

/** The reading, or why there is none (no datapoint, or CloudWatch's Region did not answer). */
async function read(metrics: LagMetricsPort, query: LagQuery): Promise<LagReading | string> {
  try {
    return (
      (await metrics.latestLag(query)) ??
      `no ${query.metricName} datapoint for ${query.resourceId} in ${query.region} in the last 5 minutes`
    );
  } catch (error) {
    if (isRegionUnreachable(error)) return (error as Error).message;
    throw error;
  }
}

/** Pre-flight's lag check. A lag that cannot be measured fails, unless the runbook accepts unknown lag. */
export async function lagCheck(
  metrics: LagMetricsPort,
  name: string,
  query: LagQuery,
  target: LagTarget,
): Promise<CheckResult> {
  const reading = await read(metrics, query);
  if (typeof reading === 'string') {
    return checkLine(
      name,
      'replication lag',
      target.acceptUnknownLag,
      target.acceptUnknownLag
        ? `not measured (${reading}); acceptUnknownLag is set, so the promotion stops for an approval before going on without it`
        : `not measured (${reading}); a lag that cannot be measured fails this check — check the metric in CloudWatch, or set acceptUnknownLag: true to go on with an approval`,
    );
  }
  const maxLagMs = durationToMs(target.maxLag);
  const ok = reading.lagMs <= maxLagMs;
  return checkLine(
    name,
    'replication lag',
    ok,
    `${formatMs(reading.lagMs)} ${ok ? '≤' : '>'} maxLag ${target.maxLag} (${reading.source} at ${reading.at.toISOString()})${ok ? '' : '; wait for the replica to catch up, or raise maxLag if that loss is acceptable'}`,
  );
}

/**
 * The gate before a promotion. Planned runs wait (at most maxLag) for a lag of 0, so nothing is lost; unplanned
 * runs go on within maxLag. Beyond maxLag, an unplanned run may go on only with an operator's approval of the loss
 * (`approvals.dataLoss`); an unknown lag only with `acceptUnknownLag` and an approval (`approvals.unknownLag`).
 */
export async function lagGate(
  metrics: LagMetricsPort,
  query: LagQuery,
  target: LagTarget,
  context: StepContext,
  poll: PollPacing = {},
): Promise<{ summary: string; facts: Facts }> {
  const maxLagMs = durationToMs(target.maxLag);
  const started = Date.now();
  let reading = await read(metrics, query);
  const caughtUp = (r: LagReading | string) => typeof r !== 'string' && r.lagMs === 0;
  if (context.mode === 'planned' && !caughtUp(reading)) {
    reading = await pollUntil(
      () => read(metrics, query),
      (r) => caughtUp(r) || Date.now() - started >= maxLagMs,
      {
        ...poll,
        describe: (r) => ({
          waitingFor: `${query.metricName} of ${query.resourceId} to read 0`,
          lag: typeof r === 'string' ? r : r.lagMs,
        }),
      },
    );
  }
  if (typeof reading === 'string') {
    if (target.acceptUnknownLag && context.approvals.unknownLag !== undefined) {
      return {
        summary: `replication lag unknown (${reading}); going on as approved by ${context.approvals.unknownLag}`,
        facts: { replicationLag: 'unknown', unknownLagApprovedBy: context.approvals.unknownLag },
      };
    }
    throw permanentFailure(
      PermanentFailure.ReplicationLagUnknown,
      target.acceptUnknownLag
        ? `replication lag could not be measured (${reading}); the runbook accepts unknown lag with an approval: approve to promote without knowing how much may be lost`
        : `replication lag could not be measured (${reading}); a promotion with unknown lag may lose any amount of data — check ${query.metricName} in CloudWatch, or set acceptUnknownLag: true on the target to go on with an approval`,
      { source: query.metricName, resourceId: query.resourceId, region: query.region },
    );
  }
  const facts: Facts = {
    replicationLagMs: reading.lagMs,
    lagSource: reading.source,
    lagAt: reading.at.toISOString(),
  };
  if (context.mode === 'planned' && reading.lagMs > 0) {
    throw permanentFailure(
      PermanentFailure.ReplicaNotCaughtUp,
      `${reading.source} still reads ${formatMs(reading.lagMs)} after waiting maxLag ${target.maxLag}; a planned promotion waits for 0 so nothing is lost — check replication, then retry to wait again`,
      facts,
    );
  }
  if (reading.lagMs > maxLagMs) {
    if (context.mode === 'unplanned' && context.approvals.dataLoss !== undefined) {
      return {
        summary: `replication lag ${formatMs(reading.lagMs)} > maxLag ${target.maxLag}: promoting with up to that much loss, approved by ${context.approvals.dataLoss}`,
        facts: { ...facts, dataLossApprovedBy: context.approvals.dataLoss },
      };
    }
    throw permanentFailure(
      PermanentFailure.ReplicaLagTooHigh,
      `${reading.source} reads ${formatMs(reading.lagMs)} > maxLag ${target.maxLag} (at ${reading.at.toISOString()}): promoting now loses up to that much; wait and retry${context.mode === 'unplanned' ? ', or approve promoting with that loss' : ''}`,
      facts,
    );
  }
  return {
    summary:
      context.mode === 'planned'
        ? `${reading.source} read 0 (waited ${formatMs(Date.now() - started)}): nothing is lost`
        : `replication lag ${formatMs(reading.lagMs)} ≤ maxLag ${target.maxLag} (${reading.source})`,
    facts,
  };
}
