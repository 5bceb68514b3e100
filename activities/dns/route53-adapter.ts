import { recordValues } from '../../common/record-values';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  TestDNSAnswerCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { LRUCache } from 'lru-cache';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { markUncertainAttempts, mayHaveTakenEffect, OUTCOME_UNKNOWN } from '../aws-attempts';
import { currentRunId } from '../poll-until';
import { sharedWhileInFlight } from '../shared-reads';
import type { ZoneRef } from '../../runbooks/schema';
import { toAwsFailure } from './aws-failure';
import { fqdn } from '../../common/record-name';
import {
  RECORDS_PER_PAGE,
  type DnsAnswer,
  type DnsChange,
  type DnsRecordSet,
  type DnsRecordType,
  type HostedZone,
  type RecordPage,
  type Route53Port,
} from './route53-port';

const MANAGED_TYPES = new Set<string>(['A', 'AAAA', 'CNAME']);

const NOT_FOUND = new Set(['NoSuchHostedZone', 'NoSuchChange']);

/** How long a run keeps the id of a zone it found by name (a failover's steps span minutes, not hours). */
const RUN_ZONE_TTL_MS = 30 * 60_000;

/**
 * Route 53 through the AWS SDK v3 client handed in (pointed at AWS or at moto).
 *
 * A zone named in a runbook is looked up by name once per workflow run: its pre-flight, the DNS step's read and
 * its switch each need the id, and each ListHostedZonesByName is a call of the account's Route 53 budget (5 or
 * 10 a second), which an evacuation of many zones spends on its switches. Per run, not per worker: a zone
 * deleted and created again between runs gets a new id, which the next run finds. A run's reads of one zone made
 * at the same time (a plan's checks, a pre-flight) share one call while it is in flight (`sharedWhileInFlight`).
 */
export function createRoute53Adapter(
  client: Route53Client,
  options: { keepAliveMs?: number; joinWithinMs?: number } = {},
): Route53Port {
  markUncertainAttempts(client);
  const zonesOfRuns = new LRUCache<string, HostedZone>({ max: 10_000, ttl: RUN_ZONE_TTL_MS });
  const shared = sharedWhileInFlight('run', options);
  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toAwsFailure('Route 53', operation, error, NOT_FOUND);
    }
  }

  return {
    async findZone(zone: ZoneRef): Promise<HostedZone> {
      if (zone.id !== undefined) {
        const id = bareId(zone.id);
        const out = await call(`GetHostedZone ${id}`, () =>
          client.send(new GetHostedZoneCommand({ Id: id })),
        );
        return { id, name: fqdn(out.HostedZone?.Name ?? '') };
      }
      const name = fqdn(zone.name ?? '');
      const runId = currentRunId();
      const key = runId === undefined ? undefined : `${runId} ${name}`;
      const known = key === undefined ? undefined : zonesOfRuns.get(key);
      if (known !== undefined) return known;
      const out = await shared(`ListHostedZonesByName ${name}`, () =>
        call(`ListHostedZonesByName ${name}`, () =>
          client.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 10 })),
        ),
      );
      const matches = (out.HostedZones ?? []).filter((z) => fqdn(z.Name ?? '') === name);
      if (matches.length === 0) {
        throw permanentFailure(
          PermanentFailure.NotFound,
          `No Route 53 hosted zone named ${name}; check zone.name in the runbook (or give zone.id)`,
        );
      }
      if (matches.length > 1) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          `${matches.length} hosted zones are named ${name} (${matches.map((z) => bareId(z.Id ?? '')).join(', ')}); give zone.id in the runbook instead of zone.name`,
        );
      }
      const found = { id: bareId(matches[0]?.Id ?? ''), name };
      if (key !== undefined) zonesOfRuns.set(key, found);
      return found;
    },

    async getRecordSet(zoneId: string, name: string, type: DnsRecordType): Promise<DnsRecordSet | undefined> {
      const wanted = fqdn(name);
      const operation = `ListResourceRecordSets ${wanted} ${type}`;
      const out = await shared(`${operation} in ${zoneId}`, () =>
        call(operation, () =>
          client.send(
            new ListResourceRecordSetsCommand({
              HostedZoneId: zoneId,
              StartRecordName: wanted,
              StartRecordType: type,
              MaxItems: 1,
            }),
          ),
        ),
      );
      const found = (out.ResourceRecordSets ?? []).find(
        (r) => fqdn(r.Name ?? '') === wanted && r.Type === type,
      );
      if (!found) return undefined;
      return {
        name: wanted,
        type,
        ttl: found.TTL ?? 0,
        values: (found.ResourceRecords ?? []).map((r) => r.Value ?? ''),
      };
    },

    async listRecordSets(zoneId, start): Promise<RecordPage> {
      const operation = `ListResourceRecordSets ${zoneId}${start ? ` from ${start.name} ${start.type}` : ''}`;
      const out = await shared(operation, () =>
        call(operation, () =>
          client.send(
            new ListResourceRecordSetsCommand({
              HostedZoneId: zoneId,
              MaxItems: RECORDS_PER_PAGE,
              ...(start ? { StartRecordName: start.name, StartRecordType: start.type as DnsRecordType } : {}),
            }),
          ),
        ),
      );
      const records: DnsRecordSet[] = [];
      for (const set of out.ResourceRecordSets ?? []) {
        // Weighted, latency and other routed sets share a name and type; drctl manages only plain record sets.
        if (!MANAGED_TYPES.has(set.Type ?? '') || set.SetIdentifier !== undefined) continue;
        records.push({
          name: fqdn(set.Name ?? ''),
          type: set.Type as DnsRecordType,
          ttl: set.TTL ?? 0,
          values: (set.ResourceRecords ?? []).map((r) => r.Value ?? ''),
        });
      }
      const more = out.IsTruncated === true && out.NextRecordName !== undefined;
      return {
        records,
        ...(more ? { next: { name: out.NextRecordName as string, type: out.NextRecordType ?? 'A' } } : {}),
      };
    },

    async upsertRecords(zoneId, upserts, comment): Promise<DnsChange> {
      const out = await call(`ChangeResourceRecordSets in ${zoneId}`, () =>
        client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: {
              Comment: comment,
              Changes: upserts.map((u) => ({
                Action: 'UPSERT',
                ResourceRecordSet: plainSet(u.name, u.type, u.ttl, recordValues(u)),
              })),
            },
          }),
        ),
      );
      return toChange(out.ChangeInfo);
    },

    async swapRecords(zoneId, swaps, comment): Promise<DnsChange> {
      const operation = `ChangeResourceRecordSets in ${zoneId}`;
      try {
        const out = await client.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: {
              Comment: comment,
              Changes: swaps.flatMap(({ name, type, from, to }) => [
                ...(from === null
                  ? []
                  : [
                      {
                        Action: 'DELETE' as const,
                        ResourceRecordSet: plainSet(name, type, from.ttl, from.values),
                      },
                    ]),
                {
                  Action: 'CREATE' as const,
                  ResourceRecordSet: plainSet(name, type, to.ttl, recordValues(to)),
                },
              ]),
            },
          }),
        );
        return toChange(out.ChangeInfo);
      } catch (error) {
        // A swap, unlike an UPSERT, cannot simply be sent again: once one attempt went through, every later one is
        // refused (its DELETE no longer matches) or meets that change still PENDING (PriorRequestNotComplete). So
        // when an attempt may have gone through (lost in transit, or a 5xx) and the call failed, whether anything
        // changed is unknown, and only a read tells: a retryable failure, whose retry reads the zone first.
        if (mayHaveTakenEffect(error)) {
          const e = error as { name?: string; message?: string };
          throw transientFailure(
            OUTCOME_UNKNOWN,
            `Route 53 ${operation} failed after an attempt that may have reached Route 53 (${e.name ?? 'Error'}: ${e.message ?? ''}), so it may have made the change; the step's retry reads the zone before it writes`,
          );
        }
        const moved = movedRecords(error);
        if (moved.length > 0) {
          throw permanentFailure(
            PermanentFailure.ChangedSinceRead,
            `Route 53 refused ${operation} as a whole, nothing changed: ${moved.slice(0, 10).join('; ')}${moved.length > 10 ? ` (and ${moved.length - 10} more)` : ''}`,
          );
        }
        throw toAwsFailure('Route 53', operation, error, NOT_FOUND);
      }
    },

    async getChange(changeId: string): Promise<DnsChange> {
      const id = bareId(changeId);
      const out = await call(`GetChange ${id}`, () => client.send(new GetChangeCommand({ Id: id })));
      return toChange(out.ChangeInfo);
    },

    testDnsAnswer(zoneId, name, type): Promise<DnsAnswer> {
      return shared(`TestDNSAnswer ${fqdn(name)} ${type} in ${zoneId}`, () => testAnswer(zoneId, name, type));
    },
  };

  async function testAnswer(zoneId: string, name: string, type: DnsRecordType): Promise<DnsAnswer> {
    try {
      const out = await client.send(
        new TestDNSAnswerCommand({ HostedZoneId: zoneId, RecordName: fqdn(name), RecordType: type }),
      );
      return { supported: true, responseCode: out.ResponseCode ?? '', values: out.RecordData ?? [] };
    } catch (error) {
      // moto has no TestDNSAnswer: it answers 404 with an HTML page the SDK cannot parse.
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (
        e.$metadata?.httpStatusCode === 404 &&
        (e.name === undefined || e.name === 'Error' || e.name === 'UnknownError')
      ) {
        return { supported: false, reason: 'the Route 53 endpoint does not implement TestDNSAnswer' };
      }
      throw toAwsFailure('Route 53', `TestDNSAnswer ${fqdn(name)} ${type}`, error, NOT_FOUND);
    }
  }
}

/**
 * Route 53's InvalidChangeBatch messages that say a swap's precondition failed ("Tried to delete resource record
 * set [name='…', type='…'] but the values provided do not match the current values", "… but it was not found",
 * "Tried to create resource record set … but it already exists"); empty for any other error.
 */
function movedRecords(error: unknown): string[] {
  const e = error as { name?: string; message?: string; messages?: string[] } | undefined;
  if (e?.name !== 'InvalidChangeBatch') return [];
  const messages = e.messages !== undefined && e.messages.length > 0 ? e.messages : [e.message ?? ''];
  const moved = messages.filter((message) => /Tried to (delete|create) resource record set/.test(message));
  return moved.length === messages.length ? moved : [];
}

/** A plain record set (no routing policy, no alias) as a change batch names it. */
function plainSet(name: string, type: DnsRecordType, ttl: number, values: string[]) {
  return {
    Name: fqdn(name),
    Type: type,
    TTL: ttl,
    ResourceRecords: values.map((value) => ({ Value: value })),
  };
}

/** `/hostedzone/Z123` → `Z123`, `/change/C1` → `C1`. */
function bareId(id: string): string {
  const slash = id.lastIndexOf('/');
  return slash >= 0 ? id.slice(slash + 1) : id;
}

function toChange(info: { Id?: string; Status?: string } | undefined): DnsChange {
  return { id: bareId(info?.Id ?? ''), status: info?.Status === 'INSYNC' ? 'INSYNC' : 'PENDING' };
}
