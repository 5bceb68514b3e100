import { recordLabel } from '../../common/record-name';
import type { DnsRecordSet, RecordCursor, Route53Port } from './route53-port';

/** How far a paged read of a zone got: where the next page starts and the wanted record sets found so far. */
export interface ZoneReadProgress {
  next?: RecordCursor;
  /** `[label, ttl, values]` of each wanted record set found. */
  found: Array<[string, number, string[]]>;
  pages: number;
}

export interface ZoneRead {
  /** Wanted record sets by label (`A name.`); a wanted label missing here does not exist in the zone. */
  sets: Map<string, DnsRecordSet>;
  /** Pages read, counting those an earlier attempt read. */
  pages: number;
}

/**
 * Reads the record sets named by `wanted` (labels from `recordLabel`) with paged ListResourceRecordSets calls, up
 * to 300 record sets a call, stopping once every wanted one is found. After each page `onPage` gets the progress
 * (to heartbeat); a retry passes the last progress as `from` and goes on from that page instead of starting over.
 */
export async function readZoneRecords(
  route53: Route53Port,
  zoneId: string,
  wanted: ReadonlySet<string>,
  from: ZoneReadProgress | undefined,
  onPage: (progress: ZoneReadProgress) => void,
): Promise<ZoneRead> {
  const progress: ZoneReadProgress = from
    ? { found: [...from.found], pages: from.pages, ...(from.next ? { next: from.next } : {}) }
    : { found: [], pages: 0 };
  const finished = from !== undefined && from.pages > 0 && from.next === undefined;
  if (!finished && progress.found.length < wanted.size) {
    for (;;) {
      const page = await route53.listRecordSets(zoneId, progress.next);
      progress.pages++;
      for (const set of page.records) {
        const label = recordLabel(set.type, set.name);
        if (wanted.has(label)) progress.found.push([label, set.ttl, set.values]);
      }
      if (page.next) progress.next = page.next;
      else delete progress.next;
      onPage(progress);
      if (progress.next === undefined || progress.found.length >= wanted.size) break;
    }
  }
  const sets = new Map<string, DnsRecordSet>();
  for (const [label, ttl, values] of progress.found) {
    const space = label.indexOf(' ');
    sets.set(label, {
      type: label.slice(0, space) as DnsRecordSet['type'],
      name: label.slice(space + 1),
      ttl,
      values,
    });
  }
  return { sets, pages: progress.pages };
}
