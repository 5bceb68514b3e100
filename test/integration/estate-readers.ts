import {
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { Client as PgClient } from 'pg';
import type { StackInfo } from '../../sandbox/stack-info';

/**
 * Reads the estate's real state straight from the servers (never through drctl), so tests assert effects:
 * a query's rows, a Route 53 record's value, a PostgreSQL member's WAL timeline.
 */
export async function sql<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new PgClient({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The record's first value, read from moto directly; the zone is looked up by name (a reset changes its id). */
export async function recordValue(stack: StackInfo, name: string): Promise<string | undefined> {
  return (await recordSet(stack, name))?.values[0];
}

/** The record set of that name (its TTL and every value, sorted), read from moto directly; undefined if none. */
export async function recordSet(
  stack: StackInfo,
  name: string,
): Promise<{ ttl: number | undefined; values: string[] } | undefined> {
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint: stack.moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  try {
    const zones = await route53.send(
      new ListHostedZonesByNameCommand({ DNSName: stack.aws.route53.zoneName }),
    );
    const zone = zones.HostedZones?.find((candidate) => candidate.Name === stack.aws.route53.zoneName);
    if (!zone?.Id) return undefined;
    const listed = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.Id }));
    const found = listed.ResourceRecordSets?.find((record) => record.Name === name);
    if (found === undefined) return undefined;
    return {
      ttl: found.TTL,
      values: (found.ResourceRecords ?? []).map((record) => record.Value ?? '').sort(),
    };
  } finally {
    route53.destroy();
  }
}

/** The WAL timeline a writable member is on: a promotion starts the next one, so it counts promotions. */
export async function walTimeline(url: string): Promise<number> {
  const [row] = await sql<{ file: string }>(url, 'select pg_walfile_name(pg_current_wal_lsn()) as file');
  return parseInt(row!.file.slice(0, 8), 16);
}
