import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateHostedZoneCommand, DeleteHostedZoneCommand } from '@aws-sdk/client-route-53';
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DeleteDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { loadRunbookFile } from '../runbooks/catalog';
import type { createSandboxAwsClients } from './aws-clients';
import { FENCE_SECURITY_GROUP } from './rds-seed';
import { upsertRecords } from './route53-seed';
import type { StrictAwsControl } from './strict-aws-client';

/**
 * An estate of services to evacuate from one region, seeded on the local stack for the fleet benchmark and the
 * evacuation crash test: each service has RDS primaries in ESTATE_PRIMARY_REGION with cross-region read replicas
 * in ESTATE_REPLICA_REGION, and a hosted zone whose CNAME records name a primary. Each gets a runbook (fence every
 * primary, promote every replica, point every record at a promoted replica), and one evacuation runs them all.
 */
export const ESTATE_PRIMARY_REGION = 'us-east-1';
export const ESTATE_REPLICA_REGION = 'us-west-2';

export interface EstateDatabase {
  name: string;
  primary: string;
  replica: string;
}

export interface EstateService {
  id: string;
  /** The hosted zone's id, without `/hostedzone/`. */
  zoneId: string;
  zoneName: string;
  records: string[];
  databases: EstateDatabase[];
}

export interface EstateShape {
  /** Makes the names of this estate unique: services are `<tag>-svcNN`. */
  tag: string;
  /** The parent domain of the services' zones (`<service>.<domain>`), with its trailing dot. */
  domain: string;
  services: number;
  /** How many primary/replica pairs the service at `index` has. */
  databases: (index: number) => number;
  /** The names of the records in the service's zone. */
  records: (index: number, zoneName: string) => string[];
}

type SandboxAwsClients = ReturnType<typeof createSandboxAwsClients>;

/** Seeds the estate straight into moto (behind the layer: seeding is not what a test or a bench measures). */
export async function seedEstate(raw: SandboxAwsClients, shape: EstateShape): Promise<EstateService[]> {
  const primaries = raw.rds(ESTATE_PRIMARY_REGION);
  const replicas = raw.rds(ESTATE_REPLICA_REGION);
  const services: EstateService[] = [];
  try {
    for (let s = 0; s < shape.services; s++) {
      const id = `${shape.tag}-svc${String(s).padStart(2, '0')}`;
      const zoneName = `${id}.${shape.domain}`;
      const zone = await raw.route53.send(
        new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${id}-${Date.now()}` }),
      );
      const zoneId = (zone.HostedZone?.Id ?? '').replace('/hostedzone/', '');
      const databases = Array.from({ length: shape.databases(s) }, (_, d) => ({
        name: `d${d}`,
        primary: `${id}-d${d}-primary`,
        replica: `${id}-d${d}-replica`,
      }));
      await Promise.all(
        databases.map(async (db) => {
          const created = await primaries.send(
            new CreateDBInstanceCommand({
              DBInstanceIdentifier: db.primary,
              Engine: 'postgres',
              EngineVersion: '15.4',
              DBInstanceClass: 'db.t3.micro',
              AllocatedStorage: 20,
              MasterUsername: 'estate',
              MasterUserPassword: 'sandbox-not-a-secret',
              BackupRetentionPeriod: 7,
            }),
          );
          await replicas.send(
            new CreateDBInstanceReadReplicaCommand({
              DBInstanceIdentifier: db.replica,
              SourceDBInstanceIdentifier: created.DBInstance?.DBInstanceArn,
              DBInstanceClass: 'db.t3.micro',
            }),
          );
        }),
      );
      const records = shape.records(s, zoneName);
      const value = `${databases[0]?.primary ?? 'old'}.${ESTATE_PRIMARY_REGION}.example.`;
      await upsertRecords(raw.route53, zoneId, records, { type: 'CNAME', value });
      services.push({ id, zoneId, zoneName, records, databases });
    }
  } finally {
    primaries.destroy();
    replicas.destroy();
  }
  return services;
}

/**
 * RDS publishes ReplicaLag for every read replica; moto does not, so the layer publishes it for the estate's
 * replicas (the pre-flight refuses a lag it cannot measure). Set after the layer's reset, which drops them again.
 */
export async function publishReplicaLag(control: StrictAwsControl, services: EstateService[]): Promise<void> {
  const replicas = services.flatMap((s) => s.databases.map((db) => db.replica));
  for (let i = 0; i < replicas.length; i += 50) {
    await Promise.all(
      replicas
        .slice(i, i + 50)
        .map((resourceId) =>
          control.setLag({ metricName: 'ReplicaLag', resourceId, region: ESTATE_REPLICA_REGION }, 0),
        ),
    );
  }
}

/**
 * One runbook per service, validated and written into `catalog`: fence every primary and promote every replica
 * (each a parallel group), then point the zone's records at its promoted replicas in turn; and one evacuation in
 * `evacuations` running them all in one wave, `concurrency` at a time. Returns the evacuation's id.
 */
export function writeEstateEvacuation(
  dirs: { catalog: string; evacuations: string },
  tag: string,
  services: EstateService[],
  options: { owner: string; title: string; concurrency: number },
): string {
  for (const service of services) {
    const file = join(dirs.catalog, `${service.id}.json`);
    writeFileSync(file, JSON.stringify(runbookFor(service, options.owner)));
    loadRunbookFile(file);
  }
  const id = `${tag}-evacuation`;
  writeFileSync(
    join(dirs.evacuations, `${id}.json`),
    JSON.stringify({
      id,
      title: options.title,
      waves: [
        {
          id: 'everything',
          runbooks: services.map((s) => s.id),
          concurrency: Math.min(options.concurrency, services.length),
        },
      ],
    }),
  );
  return id;
}

function runbookFor(service: EstateService, owner: string): unknown {
  const databases = Object.fromEntries(
    service.databases.map((db) => [
      db.name,
      {
        provider: 'rds-instance',
        primary: { instanceId: db.primary, region: ESTATE_PRIMARY_REGION },
        replica: { instanceId: db.replica, region: ESTATE_REPLICA_REGION },
        // The sandbox seeds this group (no inbound rules) in us-east-1's default VPC, where moto puts instances.
        fence: 'security-groups',
        fenceSecurityGroup: FENCE_SECURITY_GROUP,
      },
    ]),
  );
  const group = (id: string, kind: string) => {
    const steps = service.databases.map((db) => ({ id: `${id}-${db.name}`, kind, database: db.name }));
    return steps.length === 1 ? steps[0] : { id, kind: 'parallel', steps };
  };
  return {
    id: service.id,
    title: `${service.id}: leave ${ESTATE_PRIMARY_REGION}`,
    owner,
    objectives: { rto: '30m', rpo: '5m' },
    targets: { databases },
    steps: [
      { id: 'preflight', kind: 'preflight', timeout: '10m' },
      group('fence', 'database.fence'),
      group('promote', 'database.promote'),
      {
        id: 'switch-dns',
        kind: 'dns.switch',
        timeout: '10m',
        zone: { name: service.zoneName },
        records: service.records.map((name, r) => ({
          name,
          type: 'CNAME',
          ttl: 60,
          pointTo: { database: service.databases[r % service.databases.length]?.name, member: 'replica' },
        })),
      },
    ],
  };
}

/** Deletes the estate's instances and zones (behind the layer); what is already gone is skipped. */
export async function removeEstate(raw: SandboxAwsClients, services: EstateService[]): Promise<void> {
  const primaries = raw.rds(ESTATE_PRIMARY_REGION);
  const replicas = raw.rds(ESTATE_REPLICA_REGION);
  const remove = (client: typeof primaries, id: string) =>
    client
      .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }))
      .catch(() => undefined);
  try {
    for (const service of services) {
      await Promise.all(
        service.databases.flatMap((db) => [remove(primaries, db.primary), remove(replicas, db.replica)]),
      );
      await raw.route53.send(new DeleteHostedZoneCommand({ Id: service.zoneId })).catch(() => undefined);
    }
  } finally {
    primaries.destroy();
    replicas.destroy();
  }
}
