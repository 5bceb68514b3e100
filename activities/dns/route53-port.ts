/**
 * The narrow slice of Route 53 that drctl uses. The real adapter wraps the AWS SDK; unit tests hand in a fake.
 * Names passed in and returned are fully qualified with a trailing dot (see `fqdn`); zone ids carry no
 * `/hostedzone/` prefix; change ids carry no `/change/` prefix.
 */
import type { ZoneRef } from '../../runbooks/schema';

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME';

export interface HostedZone {
  id: string;
  name: string;
}

/** A record set as Route 53 holds it. */
export interface DnsRecordSet {
  name: string;
  type: DnsRecordType;
  ttl: number;
  values: string[];
}

/** One UPSERT of a plain record set: its one `value`, or `values` when it holds several. */
export interface DnsUpsert {
  name: string;
  type: DnsRecordType;
  ttl: number;
  value: string;
  values?: string[];
}

/**
 * One record moved only if it still holds what the run read: a DELETE of exactly `from` (TTL and every value) and a
 * CREATE of `to` in one change batch, or a lone CREATE when `from` is null (the record did not exist). Route 53
 * validates a batch as a whole and makes all of its changes or none, so a record that moved since it was read
 * fails the batch and nothing changes.
 */
export interface DnsSwap {
  name: string;
  type: DnsRecordType;
  from: { ttl: number; values: string[] } | null;
  to: { ttl: number; value: string; values?: string[] };
}

export type ChangeStatus = 'PENDING' | 'INSYNC';

export interface DnsChange {
  id: string;
  status: ChangeStatus;
}

/** What Route 53's TestDNSAnswer says a name resolves to; `supported: false` when the endpoint lacks the API (moto). */
export type DnsAnswer =
  { supported: true; responseCode: string; values: string[] } | { supported: false; reason: string };

/** Where a paged listing goes on: the name and type of the next record set (Route 53's NextRecordName/Type). */
export interface RecordCursor {
  name: string;
  type: string;
}

/** One page of a zone's record sets (A, AAAA and CNAME only; others are skipped), and where the next starts. */
export interface RecordPage {
  records: DnsRecordSet[];
  next?: RecordCursor;
}

/** Records per ListResourceRecordSets page: Route 53's maximum (MaxItems up to 300). */
export const RECORDS_PER_PAGE = 300;

export interface Route53Port {
  /** The zone by name or id; throws a permanent NotFound when there is none. */
  findZone(zone: ZoneRef): Promise<HostedZone>;
  /** The record set with exactly this name and type, or undefined. */
  getRecordSet(zoneId: string, name: string, type: DnsRecordType): Promise<DnsRecordSet | undefined>;
  /** One page (up to RECORDS_PER_PAGE) of the zone's record sets, from `start` or the beginning. */
  listRecordSets(zoneId: string, start?: RecordCursor): Promise<RecordPage>;
  /**
   * Submits all upserts as ONE ChangeBatch; the caller keeps it within Route 53's batch limits
   * (`kinds/dns-switch/change-batches.ts`). A batch sent while the zone's previous change is PENDING fails with a
   * retryable `PriorRequestNotComplete`.
   */
  upsertRecords(zoneId: string, upserts: DnsUpsert[], comment: string): Promise<DnsChange>;
  /**
   * Submits all swaps as ONE ChangeBatch of DELETE + CREATE pairs (within the limits: `swapBatches`). When any
   * record no longer holds its `from` (or exists where `from` is null), Route 53 refuses the whole batch with
   * InvalidChangeBatch: this throws a permanent `ChangedSinceRead` naming them, and nothing changed. A failed call
   * one of whose attempts may have reached Route 53 (its answer lost in transit, or a 5xx) throws a retryable
   * `OutcomeUnknown` instead, whatever the last answer. Otherwise PriorRequestNotComplete as for `upsertRecords`.
   */
  swapRecords(zoneId: string, swaps: DnsSwap[], comment: string): Promise<DnsChange>;
  getChange(changeId: string): Promise<DnsChange>;
  testDnsAnswer(zoneId: string, name: string, type: DnsRecordType): Promise<DnsAnswer>;
}
