/** The failover steps as rows relative to the injected failure: what the step table and the Gantt chart show. */
import type { StepStatus, TimelineEntry } from '../workflows/run-types';
import type { DrillResult } from '../workflows/drill-types';
import { lastOfItsGroup, shareOfRecovery } from '../workflows/drill-measurement';
import { formatOffset, msBetween } from './format';

export interface StepRow {
  stepId: string;
  kind: string;
  title?: string;
  group?: string;
  /** Offset of the step's start from the injection (negative when it started before). */
  startOffsetMs: number;
  /** null while the step was still running when the result was taken. */
  durationMs: number | null;
  /** The part of the step between injection and restoration, over the measured RTO; null when unknown. */
  shareOfRto: number | null;
  attempts: number;
  status: StepStatus;
  /** One line: the summary, or the error, plus any operator decisions. */
  outcome: string;
  /** On the critical path: ran between the injection and the restoration, and its group (if any) waited for it. */
  critical: boolean;
}

function durationOf(entry: TimelineEntry): number | null {
  if (entry.durationMs !== undefined) return entry.durationMs;
  return entry.endedAt === undefined ? null : msBetween(entry.startedAt, entry.endedAt);
}

function outcomeOf(entry: TimelineEntry): string {
  const parts: string[] = [entry.status];
  if (entry.error) parts.push(`${entry.error.type}: ${entry.error.message}`);
  else if (entry.summary) parts.push(entry.summary);
  for (const decision of entry.decisions ?? []) {
    parts.push(`${decision.operator} chose ${decision.action} (${decision.reason})`);
  }
  return parts.join(' — ');
}

export function stepRows(result: DrillResult): StepRow[] {
  const injectedAt = result.injection.injectedAt;
  const rtoMs = result.measured.rtoMs;
  return result.failover.timeline.map((entry) => {
    const durationMs = durationOf(entry);
    const startOffsetMs = msBetween(injectedAt, entry.startedAt);
    // Computed from the timeline, not the recorded criticalPath: drills recorded before counted a step's whole
    // duration (a share of the RTO past 100%) and marked every step critical.
    const shareOfRto =
      durationMs === null || rtoMs === null || rtoMs <= 0
        ? null
        : shareOfRecovery(startOffsetMs, durationMs, rtoMs);
    return {
      stepId: entry.stepId,
      kind: entry.kind,
      ...(entry.title === undefined ? {} : { title: entry.title }),
      ...(entry.group === undefined ? {} : { group: entry.group }),
      startOffsetMs,
      durationMs,
      shareOfRto,
      attempts: entry.attempts,
      status: entry.status,
      outcome: outcomeOf(entry),
      critical: shareOfRto !== null && shareOfRto > 0 && lastOfItsGroup(result.failover.timeline, entry),
    };
  });
}

/**
 * Why "service restored" can fall inside a step, for the reports to say: the probe's write through the switched
 * name succeeded while that step was still running (a DNS change answers before Route 53 reports it INSYNC), so
 * the rest of it, and every step after, took none of the RTO. Null when service came back after the last step.
 */
export function restoredDuringSteps(result: DrillResult): string | null {
  if (result.restoredAt === null) return null;
  const restored = Date.parse(result.restoredAt);
  const running = result.failover.timeline.filter(
    (entry) =>
      Date.parse(entry.startedAt) <= restored &&
      entry.endedAt !== undefined &&
      Date.parse(entry.endedAt) > restored,
  );
  const after = result.failover.timeline.filter((entry) => Date.parse(entry.startedAt) > restored);
  if (running.length === 0 && after.length === 0) return null;
  const injectedAt = result.injection.injectedAt;
  const at = (iso: string): string => formatOffset(msBetween(injectedAt, iso));
  const during = running.map((entry) => `${entry.stepId} (ended ${at(entry.endedAt as string)})`);
  const dns = running.some((entry) => entry.kind === 'dns.switch')
    ? ' (a DNS change is answered before Route 53 reports it INSYNC)'
    : '';
  const sentences = [
    during.length > 0
      ? `Service was restored at ${at(result.restoredAt)}, while ${during.join(' and ')} ${during.length === 1 ? 'was' : 'were'} still running: a write through the switched name succeeded before ${during.length === 1 ? 'the step' : 'they'} confirmed ${during.length === 1 ? 'its' : 'their'} change${dns}.`
      : `Service was restored at ${at(result.restoredAt)}.`,
    ...(after.length > 0
      ? [`${after.map((entry) => entry.stepId).join(', ')} ran after service was back.`]
      : []),
    'What a step took after the restoration is no part of the RTO.',
  ];
  return sentences.join(' ');
}
