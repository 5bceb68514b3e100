import type { TimelineEntry } from '../workflows/run-types';

/**
 * Provider time on a run's critical path: the sum over its top-level steps of their provider time, where a
 * parallel group counts only the member that finished last (the one the run waited for). Steps follow one another
 * in the timeline; members of one group are adjacent and carry its name.
 */
export function criticalPathProviderMs(timeline: readonly TimelineEntry[]): number {
  let total = 0;
  for (let i = 0; i < timeline.length;) {
    const entry = timeline[i] as TimelineEntry;
    if (entry.group === undefined) {
      total += entry.providerMs;
      i++;
      continue;
    }
    let last = entry;
    let j = i;
    for (; j < timeline.length && timeline[j]?.group === entry.group; j++) {
      const member = timeline[j] as TimelineEntry;
      if ((member.endedAt ?? '') > (last.endedAt ?? '')) last = member;
    }
    total += last.providerMs;
    i = j;
  }
  return total;
}
