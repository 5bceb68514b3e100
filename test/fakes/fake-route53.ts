import { recordValues } from '../../common/record-values';
import type { ZoneRef } from '../../runbooks/schema';
import { PermanentFailure, permanentFailure, transientFailure } from '../../activities/failures';
import { fqdn } from '../../common/record-name';
import type {
  DnsAnswer,
  DnsChange,
  DnsRecordSet,
  DnsRecordType,
  DnsSwap,
  DnsUpsert,
  HostedZone,
  RecordCursor,
  RecordPage,
  Route53Port,
} from '../../activities/dns/route53-port';
import { RECORDS_PER_PAGE } from '../../activities/dns/route53-port';
import { MAX_BATCH_RECORDS, MAX_BATCH_VALUE_CHARACTERS } from '../../kinds/dns-switch/change-batches';

export interface FakeRoute53Options {
  zones?: Array<
    HostedZone & { records?: Array<{ name: string; type: DnsRecordType; ttl?: number; value: string }> }
  >;
  /** GetChange answers PENDING this many times per change before INSYNC. Default 0. */
  pendingPolls?: number;
  /** Instead of counting polls: a change is PENDING until this long after it was submitted (Date.now()), as in Route 53. */
  insyncAfterMs?: number;
  /** TestDNSAnswer keeps answering the old values this many times after a change. Default 0. */
  staleAnswers?: number;
  /** Behave like moto: no TestDNSAnswer. Default false. */
  noTestDnsAnswer?: boolean;
}

/**
 * In-memory Route 53 behind the real port; its state and call log are public so tests assert on them. It refuses
 * what Route 53 refuses, with the failures the real adapter makes of AWS's errors: a batch over 1,000 records or
 * 32,000 value characters (each UPSERT counted twice) is InvalidChangeBatch (permanent InvalidState); a change
 * while the zone's previous change is still PENDING is PriorRequestNotComplete (retryable); a swap batch in which a
 * record no longer holds what the swap deletes (or exists where it creates) is refused whole, as the adapter
 * reports Route 53's InvalidChangeBatch (permanent ChangedSinceRead), and changes nothing.
 */
export class FakeRoute53 implements Route53Port {
  readonly zones = new Map<string, { zone: HostedZone; records: Map<string, DnsRecordSet> }>();
  /** Every ChangeBatch accepted, in order (a swap batch lists its new values as `upserts`, and itself as `swaps`). */
  readonly submitted: Array<{
    zoneId: string;
    changeId: string;
    upserts: DnsUpsert[];
    swaps?: DnsSwap[];
    comment: string;
  }> = [];
  /** Swap batches refused because a record had moved, with Route 53's messages. */
  readonly refusedSwaps: string[][] = [];
  readonly getChangeCalls: string[] = [];
  /** When each GetChange was asked (Date.now(), so fake timers give virtual times). */
  readonly getChangeTimes: number[] = [];
  /** Calls per port method, to show that work scales with zones and pages, not records. */
  readonly calls: Record<string, number> = {};
  /** Set to make every call fail with this error (e.g. a permanentFailure or an AWS-shaped error). */
  failWith: unknown;
  private readonly pendingLeft = new Map<string, number>();
  /** Change id → when it turns INSYNC, with `insyncAfterMs`. */
  private readonly insyncAt = new Map<string, number>();
  /** Hosted zone id → its newest change id. */
  private readonly lastChangeOfZone = new Map<string, string>();
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
    this.count('findZone');
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
    this.count('getRecordSet');
    this.maybeFail();
    const found = this.zone(zoneId).records.get(key(name, type));
    return found ? { ...found, values: [...found.values] } : undefined;
  }

  /** Pages in Route 53's order here: by name, then type; a page holds at most 300 sets. */
  async listRecordSets(zoneId: string, start?: RecordCursor): Promise<RecordPage> {
    this.count('listRecordSets');
    this.maybeFail();
    const sorted = [...this.zone(zoneId).records.values()].sort((a, b) =>
      `${a.name} ${a.type}`.localeCompare(`${b.name} ${b.type}`),
    );
    const from = start
      ? sorted.findIndex(
          (set) => `${set.name} ${set.type}`.localeCompare(`${fqdn(start.name)} ${start.type}`) >= 0,
        )
      : 0;
    const first = from < 0 ? sorted.length : from;
    const page = sorted
      .slice(first, first + RECORDS_PER_PAGE)
      .map((set) => ({ ...set, values: [...set.values] }));
    const following = sorted[first + RECORDS_PER_PAGE];
    return { records: page, ...(following ? { next: { name: following.name, type: following.type } } : {}) };
  }

  /**
   * Refuses what Route 53 refuses: a batch over 1,000 ResourceRecord elements or 32,000 value characters (an UPSERT
   * counts twice), and any change while the zone's previous change is still PENDING (PriorRequestNotComplete).
   */
  async upsertRecords(zoneId: string, upserts: DnsUpsert[], comment: string): Promise<DnsChange> {
    this.count('upsertRecords');
    this.maybeFail();
    const records = this.zone(zoneId).records;
    const counted = upserts.reduce((sum, u) => sum + recordValues(u).length, 0) * 2;
    const characters = upserts.reduce((sum, u) => sum + recordValues(u).join('').length, 0) * 2;
    this.refuseOverLimits(zoneId, counted, characters);
    this.refuseWhilePending(zoneId);
    for (const u of upserts) this.put(records, u);
    return this.accept(zoneId, { upserts, comment });
  }

  async swapRecords(zoneId: string, swaps: DnsSwap[], comment: string): Promise<DnsChange> {
    this.count('swapRecords');
    this.maybeFail();
    const records = this.zone(zoneId).records;
    const counted = swaps.reduce(
      (sum, w) => sum + (w.from?.values.length ?? 0) + recordValues(w.to).length,
      0,
    );
    const characters = swaps.reduce(
      (sum, w) => sum + (w.from?.values.join('').length ?? 0) + recordValues(w.to).join('').length,
      0,
    );
    this.refuseOverLimits(zoneId, counted, characters);
    this.refuseWhilePending(zoneId);
    const moved: string[] = [];
    for (const swap of swaps) {
      const current = records.get(key(swap.name, swap.type));
      const set = `[name='${fqdn(swap.name)}', type='${swap.type}']`;
      if (swap.from === null) {
        if (current !== undefined)
          moved.push(`Tried to create resource record set ${set} but it already exists`);
      } else if (current === undefined) {
        moved.push(`Tried to delete resource record set ${set} but it was not found`);
      } else if (
        current.ttl !== swap.from.ttl ||
        [...current.values].sort().join('\n') !== [...swap.from.values].sort().join('\n')
      ) {
        moved.push(
          `Tried to delete resource record set ${set} but the values provided do not match the current values`,
        );
      }
    }
    if (moved.length > 0) {
      this.refusedSwaps.push(moved);
      throw permanentFailure(
        PermanentFailure.ChangedSinceRead,
        `Route 53 refused ChangeResourceRecordSets in ${zoneId} as a whole, nothing changed: ${moved.join('; ')}`,
      );
    }
    const upserts = swaps.map((w) => ({ name: w.name, type: w.type, ...w.to }));
    for (const u of upserts) this.put(records, u);
    return this.accept(zoneId, { upserts, swaps, comment });
  }

  private refuseOverLimits(zoneId: string, counted: number, characters: number): void {
    if (counted > MAX_BATCH_RECORDS || characters > MAX_BATCH_VALUE_CHARACTERS) {
      throw permanentFailure(
        PermanentFailure.InvalidState,
        `Route 53 ChangeResourceRecordSets in ${zoneId} was rejected (HTTP 400 InvalidChangeBatch: ${counted} ResourceRecord elements and ${characters} value characters, an UPSERT counted twice; the limits are ${MAX_BATCH_RECORDS} and ${MAX_BATCH_VALUE_CHARACTERS}); check the values in the runbook`,
      );
    }
  }

  private refuseWhilePending(zoneId: string): void {
    const previous = this.lastChangeOfZone.get(zoneId);
    if (previous !== undefined && this.isPending(previous)) {
      this.refusedPriorRequest++;
      throw transientFailure(
        'PriorRequestNotComplete',
        `Route 53 ChangeResourceRecordSets in ${zoneId} was throttled (PriorRequestNotComplete); will retry with backoff`,
      );
    }
  }

  private put(records: Map<string, DnsRecordSet>, u: DnsUpsert): void {
    const k = key(u.name, u.type);
    this.previous.set(k, records.get(k)?.values ?? []);
    records.set(k, { name: fqdn(u.name), type: u.type, ttl: u.ttl, values: recordValues(u) });
  }

  private accept(
    zoneId: string,
    batch: { upserts: DnsUpsert[]; swaps?: DnsSwap[]; comment: string },
  ): DnsChange {
    const changeId = `C${this.nextChange++}`;
    this.lastChangeOfZone.set(zoneId, changeId);
    this.submitted.push({
      zoneId,
      changeId,
      upserts: batch.upserts.map((u) => ({ ...u })),
      ...(batch.swaps ? { swaps: batch.swaps.map((w) => ({ ...w })) } : {}),
      comment: batch.comment,
    });
    this.pendingLeft.set(changeId, this.options.pendingPolls ?? 0);
    if (this.options.insyncAfterMs !== undefined)
      this.insyncAt.set(changeId, Date.now() + this.options.insyncAfterMs);
    this.staleLeft = this.options.staleAnswers ?? 0;
    return { id: changeId, status: this.isPending(changeId) ? 'PENDING' : 'INSYNC' };
  }

  private isPending(changeId: string): boolean {
    return (this.pendingLeft.get(changeId) ?? 0) > 0 || Date.now() < (this.insyncAt.get(changeId) ?? 0);
  }

  /** Changes refused because the zone's previous change was still PENDING. */
  refusedPriorRequest = 0;

  async getChange(changeId: string): Promise<DnsChange> {
    this.count('getChange');
    this.maybeFail();
    this.getChangeCalls.push(changeId);
    this.getChangeTimes.push(Date.now());
    const left = this.pendingLeft.get(changeId);
    if (left === undefined) throw permanentFailure(PermanentFailure.NotFound, `No change ${changeId}`);
    if (left > 0) {
      this.pendingLeft.set(changeId, left - 1);
      return { id: changeId, status: 'PENDING' };
    }
    return { id: changeId, status: this.isPending(changeId) ? 'PENDING' : 'INSYNC' };
  }

  async testDnsAnswer(zoneId: string, name: string, type: DnsRecordType): Promise<DnsAnswer> {
    this.count('testDnsAnswer');
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

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  private maybeFail(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }
}

function key(name: string, type: string): string {
  return `${type} ${fqdn(name)}`;
}
