import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { SandboxError } from './sandbox-error';
import { PRIMARY_HOST } from './sandbox-settings';

export const ZONE_NAME = 'sandbox.drctl.internal.';
export const EHR_DB_RECORD = `ehr-db.${ZONE_NAME}`;
export const PORTAL_DB_RECORD = `portal-db.${ZONE_NAME}`;
export const RECORD_TTL = 30;

export interface SeededRecord {
  name: string;
  type: 'A' | 'CNAME';
  value: string;
}

/**
 * Ensures the zone exists and holds the seeded records, in one change batch. Records that already exist are
 * left alone (a drill may have switched them) unless `overwrite` is set.
 */
export async function seedRoute53(
  route53: Route53Client,
  portalDbTarget: string,
  options: { overwrite?: boolean } = {},
): Promise<{ zoneId: string; records: SeededRecord[] }> {
  const zoneId = (await findZoneId(route53)) ?? (await createZone(route53));
  const records: SeededRecord[] = [
    { name: EHR_DB_RECORD, type: 'A', value: PRIMARY_HOST },
    { name: PORTAL_DB_RECORD, type: 'CNAME', value: portalDbTarget },
  ];
  const existing = options.overwrite ? new Set<string>() : await existingRecordKeys(route53, zoneId);
  const missing = records.filter((record) => !existing.has(`${record.name} ${record.type}`));
  if (missing.length === 0) return { zoneId, records };
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Comment: 'drctl sandbox seed',
        Changes: missing.map((record) => ({
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: record.name,
            Type: record.type,
            TTL: RECORD_TTL,
            ResourceRecords: [{ Value: record.value }],
          },
        })),
      },
    }),
  );
  return { zoneId, records };
}

async function existingRecordKeys(route53: Route53Client, zoneId: string): Promise<Set<string>> {
  const result = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 300 }),
  );
  return new Set((result.ResourceRecordSets ?? []).map((set) => `${set.Name} ${set.Type}`));
}

async function findZoneId(route53: Route53Client): Promise<string | undefined> {
  const result = await route53.send(new ListHostedZonesByNameCommand({ DNSName: ZONE_NAME }));
  const zone = result.HostedZones?.find((candidate) => candidate.Name === ZONE_NAME);
  return zone?.Id?.replace('/hostedzone/', '');
}

async function createZone(route53: Route53Client): Promise<string> {
  const result = await route53.send(
    new CreateHostedZoneCommand({
      Name: ZONE_NAME,
      CallerReference: `drctl-sandbox-${Date.now()}`,
      HostedZoneConfig: { Comment: 'drctl sandbox', PrivateZone: false },
    }),
  );
  const id = result.HostedZone?.Id?.replace('/hostedzone/', '');
  if (id === undefined)
    throw new SandboxError(
      'SeedFailed',
      `moto created zone ${ZONE_NAME} without an id: see .sandbox/logs/moto.log`,
    );
  return id;
}

/** UPSERTs every name with one value, in batches of 400 (an UPSERT counts twice against Route 53's 1,000). */
export async function upsertRecords(
  route53: Route53Client,
  zoneId: string,
  names: string[],
  record: { type: 'A' | 'CNAME'; value: string },
): Promise<void> {
  for (let i = 0; i < names.length; i += 400) {
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: names.slice(i, i + 400).map((name) => ({
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: name,
              Type: record.type,
              TTL: 60,
              ResourceRecords: [{ Value: record.value }],
            },
          })),
        },
      }),
    );
  }
}
