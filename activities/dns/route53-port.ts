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

/** One UPSERT of a single-valued record set. */
export interface DnsUpsert {
  name: string;
  type: DnsRecordType;
  ttl: number;
  value: string;
}

export type ChangeStatus = 'PENDING' | 'INSYNC';

export interface DnsChange {
  id: string;
  status: ChangeStatus;
}

/** What Route 53's TestDNSAnswer says a name resolves to; `supported: false` when the endpoint lacks the API (moto). */
export type DnsAnswer =
  { supported: true; responseCode: string; values: string[] } | { supported: false; reason: string };

export interface Route53Port {
  /** The zone by name or id; throws a permanent NotFound when there is none. */
  findZone(zone: ZoneRef): Promise<HostedZone>;
  /** The record set with exactly this name and type, or undefined. */
  getRecordSet(zoneId: string, name: string, type: DnsRecordType): Promise<DnsRecordSet | undefined>;
  /** Submits all upserts as ONE ChangeBatch. */
  upsertRecords(zoneId: string, upserts: DnsUpsert[], comment: string): Promise<DnsChange>;
  getChange(changeId: string): Promise<DnsChange>;
  testDnsAnswer(zoneId: string, name: string, type: DnsRecordType): Promise<DnsAnswer>;
}
