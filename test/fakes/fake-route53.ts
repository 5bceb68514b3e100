import type { ZoneRef } from '../../runbooks/schema';
import { PermanentFailure, permanentFailure } from '../../activities/failures';
import { fqdn } from '../../activities/dns/record-name';
import type {
  DnsAnswer,
  DnsChange,
  DnsRecordSet,
  DnsRecordType,
  DnsUpsert,
  HostedZone,
  Route53Port,
} from '../../activities/dns/route53-port';

export interface FakeRoute53Options {
  zones?: Array<
    HostedZone & { records?: Array<{ name: string; type: DnsRecordType; ttl?: number; value: string }> }
  >;
  /** GetChange answers PENDING this many times per change before INSYNC. Default 0. */
  pendingPolls?: number;
  /** TestDNSAnswer keeps answering the old values this many times after a change. Default 0. */
  staleAnswers?: number;
  /** Behave like moto: no TestDNSAnswer. Default false. */
  noTestDnsAnswer?: boolean;
}

/** In-memory Route 53 behind the real port; its state and call log are public so tests assert on them. */
export class FakeRoute53 implements Route53Port {
  readonly zones = new Map<string, { zone: HostedZone; records: Map<string, DnsRecordSet> }>();
  /** Every ChangeBatch submitted, in order. */
  readonly submitted: Array<{ zoneId: string; changeId: string; upserts: DnsUpsert[]; comment: string }> = [];
  readonly getChangeCalls: string[] = [];
  /** Set to make every call fail with this error (e.g. a permanentFailure or an AWS-shaped error). */
  failWith: unknown;
  private readonly pendingLeft = new Map<string, number>();
  private staleLeft = 0;
  private readonly previous = new Map<string, string[]>();
  private nextChange = 1;

  constructor(private readonly options: FakeRoute53Options = {}) {
    for (const z of options.zones ?? []) {
      const records = new Map<string, DnsRecordSet>();
      for (const r of z.records ?? []) {
        records.set(key(r.name, r.type), {
          name: fqdn(r.name),
          type: r.type,
          ttl: r.ttl ?? 60,
          values: [r.value],
        });
      }
      this.zones.set(z.id, { zone: { id: z.id, name: fqdn(z.name) }, records });
    }
  }

  /** The stored values of a record, or undefined. */
  valuesOf(zoneId: string, name: string, type: DnsRecordType): string[] | undefined {
    return this.zones.get(zoneId)?.records.get(key(name, type))?.values;
  }

  async findZone(ref: ZoneRef): Promise<HostedZone> {
    this.maybeFail();
    for (const { zone } of this.zones.values()) {
      if (ref.id !== undefined ? zone.id === ref.id : zone.name === fqdn(ref.name ?? '')) return zone;
    }
    throw permanentFailure(
      PermanentFailure.NotFound,
      `No Route 53 hosted zone ${ref.id ?? ref.name}; check the runbook`,
    );
  }

  async getRecordSet(zoneId: string, name: string, type: DnsRecordType): Promise<DnsRecordSet | undefined> {
    this.maybeFail();
    const found = this.zone(zoneId).records.get(key(name, type));
    return found ? { ...found, values: [...found.values] } : undefined;
  }

  async upsertRecords(zoneId: string, upserts: DnsUpsert[], comment: string): Promise<DnsChange> {
    this.maybeFail();
    const records = this.zone(zoneId).records;
    const changeId = `C${this.nextChange++}`;
    for (const u of upserts) {
      const k = key(u.name, u.type);
      this.previous.set(k, records.get(k)?.values ?? []);
      records.set(k, { name: fqdn(u.name), type: u.type, ttl: u.ttl, values: [u.value] });
    }
    this.submitted.push({ zoneId, changeId, upserts: upserts.map((u) => ({ ...u })), comment });
    const pending = this.options.pendingPolls ?? 0;
    this.pendingLeft.set(changeId, pending);
    this.staleLeft = this.options.staleAnswers ?? 0;
    return { id: changeId, status: pending > 0 ? 'PENDING' : 'INSYNC' };
  }

  async getChange(changeId: string): Promise<DnsChange> {
    this.maybeFail();
    this.getChangeCalls.push(changeId);
    const left = this.pendingLeft.get(changeId);
    if (left === undefined) throw permanentFailure(PermanentFailure.NotFound, `No change ${changeId}`);
    if (left > 0) {
      this.pendingLeft.set(changeId, left - 1);
      return { id: changeId, status: 'PENDING' };
    }
    return { id: changeId, status: 'INSYNC' };
  }

  async testDnsAnswer(zoneId: string, name: string, type: DnsRecordType): Promise<DnsAnswer> {
    this.maybeFail();
    if (this.options.noTestDnsAnswer) return { supported: false, reason: 'fake without TestDNSAnswer' };
    const k = key(name, type);
    if (this.staleLeft > 0 && this.previous.has(k)) {
      this.staleLeft--;
      return { supported: true, responseCode: 'NOERROR', values: this.previous.get(k) ?? [] };
    }
    const found = this.zone(zoneId).records.get(k);
    return found
      ? { supported: true, responseCode: 'NOERROR', values: [...found.values] }
      : { supported: true, responseCode: 'NXDOMAIN', values: [] };
  }

  private zone(zoneId: string) {
    const zone = this.zones.get(zoneId);
    if (!zone) throw permanentFailure(PermanentFailure.NotFound, `No hosted zone ${zoneId}`);
    return zone;
  }

  private maybeFail(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }
}

function key(name: string, type: string): string {
  return `${type} ${fqdn(name)}`;
}
