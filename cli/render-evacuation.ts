import { undeliveredAborts } from '../evacuations/abort-forward';
import type { EvacuationProgress, ServiceProgress } from '../evacuations/evacuation-types';
import type { Evacuation } from '../evacuations/schema';
import { formatMs } from '../runbooks/duration';
import { authorizationLines } from './render';
import { terminalSafe as safe } from './terminal-safe';

const STATE_MARK: Record<ServiceProgress['state'], string> = {
  waiting: '·',
  blocked: '⧗',
  running: '▶',
  paused: '⏸',
  succeeded: '✔',
  failed: '✖',
  aborted: '↩',
  skipped: '⤼',
  refused: '⊘',
};

/** How long a service has run (or ran), by the clock of `now` while it runs. */
function elapsed(service: ServiceProgress, now: number): string {
  if (service.startedAt === undefined) return '';
  const end = service.endedAt === undefined ? now : Date.parse(service.endedAt);
  return formatMs(end - Date.parse(service.startedAt));
}

/** The live table: one row per service (service, wave, step, elapsed, state). */
export function evacuationTable(progress: EvacuationProgress, now = Date.now()): string[] {
  const header = `${'SERVICE'.padEnd(24)} ${'WAVE'.padEnd(12)} ${'STEP'.padEnd(26)} ${'ELAPSED'.padStart(8)}  STATE`;
  const rows = progress.services.map((service) => {
    const step =
      service.currentSteps.length > 0
        ? service.currentSteps.join(',')
        : service.totalSteps > 0 && service.startedAt !== undefined
          ? `${service.stepsDone}/${service.totalSteps} steps`
          : '';
    const state = `${STATE_MARK[service.state]} ${service.state}${service.detail ? `: ${service.detail}` : ''}`;
    return `${service.runbookId.padEnd(24)} ${service.wave.padEnd(12)} ${safe(step).slice(0, 26).padEnd(26)} ${elapsed(service, now).padStart(8)}  ${safe(state)}`;
  });
  const gates = progress.awaiting.map(
    (gate) =>
      `⏸ wave ${gate.stepId} waits for an approval: drctl approve ${progress.workflowId} --step ${gate.stepId} --reason "…"${gate.twoPerson ? ` (by someone other than ${safe(progress.initiator)})` : ''}`,
  );
  return [header, ...rows, ...gates, ...undeliveredAbortLines(progress)];
}

/** The closing summary: how each service ended and how long the evacuation took; a refused one says why. */
export function evacuationSummary(progress: EvacuationProgress, refusal?: string): string {
  const counts = new Map<string, number>();
  for (const service of progress.services) counts.set(service.state, (counts.get(service.state) ?? 0) + 1);
  const took =
    progress.endedAt === undefined
      ? ''
      : ` in ${formatMs(Date.parse(progress.endedAt) - Date.parse(progress.startedAt))}`;
  const lines = [
    `${progress.workflowId}: evacuation ${progress.evacuationId} ${refusal === undefined ? progress.status : 'refused'}${took}: ${[
      ...counts,
    ]
      .map(([state, count]) => `${count} ${state}`)
      .join(', ')} (by ${safe(progress.initiator)}, reason: ${safe(progress.reason)})`,
  ];
  if (refusal !== undefined) lines.push(`  ${safe(refusal)}`);
  lines.push(...authorizationLines(progress.authorization));
  for (const service of progress.services.filter((s) => s.state !== 'succeeded')) {
    lines.push(
      `  ${STATE_MARK[service.state]} ${service.runbookId}: ${service.state}${service.detail ? ` — ${safe(service.detail)}` : ''}${service.workflowId ? ` (drctl status ${service.workflowId})` : ''}`,
    );
  }
  lines.push(...undeliveredAbortLines(progress));
  return lines.join('\n');
}

/** A line per failover the evacuation's abort left running (refused, or never confirmed), with how to stop it. */
function undeliveredAbortLines(progress: EvacuationProgress): string[] {
  return undeliveredAborts(progress).map((forward) => {
    const detail = forward.detail ? ` (${forward.detail})` : '';
    const what =
      forward.outcome === 'refused'
        ? `${forward.runbookId}'s failover refused the evacuation's abort${detail} and went on`
        : `the evacuation's abort was not confirmed delivered to ${forward.runbookId}'s failover${detail}, which may have gone on`;
    return safe(
      `  ⚠ ${what}: see drctl status ${forward.workflowId}; to stop it, drctl abort ${forward.workflowId} --reason "…"`,
    );
  });
}

/** What an evacuation would do: its waves, services, limits and gates. */
export function renderEvacuationPlan(evacuation: Evacuation): string {
  const lines = [`Evacuation ${evacuation.id}: ${safe(evacuation.title)}`];
  evacuation.waves.forEach((wave, index) => {
    lines.push(
      `${String(index + 1).padStart(2)}. wave ${wave.id}${wave.title ? ` (${safe(wave.title)})` : ''}: ${wave.runbooks.length} service(s), ${wave.concurrency} at a time${wave.approval ? `, after an approval${wave.approval.twoPerson ? ' by a second operator' : ''}` : ''}`,
    );
    for (const service of wave.runbooks) {
      lines.push(
        `      ${service.runbook}${service.dependsOn.length > 0 ? ` after ${service.dependsOn.join(', ')}` : ''}`,
      );
    }
  });
  lines.push(
    evacuation.onServiceFailure === 'stop'
      ? 'A failed service stops the evacuation from starting more.'
      : 'A failed service pauses for an operator; the others go on.',
  );
  return lines.join('\n');
}
