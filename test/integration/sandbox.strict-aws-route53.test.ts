import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { createSandboxAwsClients } from '../../sandbox/aws-clients';
import { resetStack } from '../../sandbox/stack';
import type { StackInfo } from '../../sandbox/stack-info';
import { awsError, eventually, strictAwsFixture } from './sandbox.strict-aws-clients';

/**
 * Route 53 rules of the strict layer through the real SDK. Quotas and error codes: "Quotas on API requests"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests) and the
 * ChangeResourceRecordSets API reference.
 */
let stack: StackInfo;
let aws: ReturnType<typeof strictAwsFixture>;
let route53: Route53Client;
const name = (label: string) => `${label}.${stack.aws.route53.zoneName}`;

beforeAll(async () => {
  stack = await resetStack({ only: ['aws'] });
  aws = strictAwsFixture(stack);
  route53 = aws.route53();
});

afterEach(async () => {
  await aws.control.reset();
});

afterAll(async () => {
  aws.close();
  await resetStack({ only: ['aws'] });
});

const upsertA = (label: string, value: string): Change => ({
  Action: 'UPSERT',
  ResourceRecordSet: { Name: name(label), Type: 'A', TTL: 30, ResourceRecords: [{ Value: value }] },
});

const change = (changes: Change[]) =>
  route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: stack.aws.route53.zoneId,
      ChangeBatch: { Changes: changes },
    }),
  );

async function values(label: string, type = 'A'): Promise<string[] | undefined> {
  const out = await route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: stack.aws.route53.zoneId,
      StartRecordName: name(label),
      StartRecordType: type as 'A',
      MaxItems: 1,
    }),
  );
  const found = out.ResourceRecordSets?.find((r) => r.Name === name(label) && r.Type === type);
  return found?.ResourceRecords?.map((r) => r.Value ?? '');
}

async function waitInsync(changeId: string): Promise<void> {
  await eventually(
    async () => (await route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status,
    (status) => status === 'INSYNC',
  );
}

describe('strict AWS layer: Route 53 propagation and PriorRequestNotComplete', () => {
  it('GIVEN a change WHEN submitted THEN it answers PENDING, GetChange stays PENDING for the propagation time, then INSYNC', async () => {
    // "Initially, the status of a change is PENDING … When the change is propagated to all hosts, the change
    // returns a status of INSYNC" (API reference, ChangeResourceRecordSets). moto answers INSYNC at once.
    await aws.control.propagation(800);

    const submitted = await change([upsertA('strict-it-propagation', '10.0.0.1')]);
    const right = await route53.send(new GetChangeCommand({ Id: submitted.ChangeInfo!.Id! }));
    await waitInsync(submitted.ChangeInfo!.Id!);

    expect(submitted.ChangeInfo?.Status).toBe('PENDING');
    expect(right.ChangeInfo?.Status).toBe('PENDING');
    expect(await values('strict-it-propagation')).toEqual(['10.0.0.1']);
  });

  it('GIVEN a PENDING change to the zone WHEN another change is sent THEN PriorRequestNotComplete (400) and the record keeps the first value; after INSYNC the change goes through', async () => {
    // "If Route 53 can't process a request before the next request arrives, it will reject subsequent requests
    // for the same hosted zone and return an HTTP 400 error … PriorRequestNotComplete" (Quotas on API requests).
    await aws.control.propagation(800);
    const first = await change([upsertA('strict-it-prior', '10.0.0.1')]);

    const refused = await awsError(change([upsertA('strict-it-prior', '10.0.0.2')]));
    const kept = await values('strict-it-prior');
    await waitInsync(first.ChangeInfo!.Id!);
    await change([upsertA('strict-it-prior', '10.0.0.3')]);

    expect(refused).toMatchObject({ code: 'PriorRequestNotComplete', status: 400 });
    expect(kept).toEqual(['10.0.0.1']);
    expect(await values('strict-it-prior')).toEqual(['10.0.0.3']);
    const stats = (await aws.control.stats()).operations.ChangeResourceRecordSets;
    expect(stats).toMatchObject({ calls: 3, succeeded: 2, refused: { PriorRequestNotComplete: 1 } });
  });
});

describe('strict AWS layer: each Route 53 change has its own id and status', () => {
  it('GIVEN changes to two zones sent 1.5 s apart WHEN the first is INSYNC THEN the second, with another id, is still PENDING', async () => {
    // moto answers every change with the id C2682N5HXP0BZ4: the first change's status followed the newest.
    await aws.control.propagation(3_000);
    const raw = createSandboxAwsClients(stack.moto.rawEndpoint).route53;
    const other = await raw.send(
      new CreateHostedZoneCommand({
        Name: `strict-it-other-${process.pid}.internal.`,
        CallerReference: `${Date.now()}`,
      }),
    );
    const otherZone = other.HostedZone!.Id!.replace('/hostedzone/', '');
    try {
      const first = await change([upsertA('strict-it-own-id', '10.0.4.1')]);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const second = await route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: otherZone,
          ChangeBatch: {
            Changes: [
              {
                Action: 'UPSERT',
                ResourceRecordSet: {
                  Name: `a.strict-it-other-${process.pid}.internal.`,
                  Type: 'A',
                  TTL: 30,
                  ResourceRecords: [{ Value: '10.0.4.2' }],
                },
              },
            ],
          },
        }),
      );

      await waitInsync(first.ChangeInfo!.Id!);
      const secondNow = await route53.send(new GetChangeCommand({ Id: second.ChangeInfo!.Id! }));

      expect(second.ChangeInfo?.Id).not.toEqual(first.ChangeInfo?.Id);
      expect(first.ChangeInfo?.Id).toMatch(/^\/change\/C[A-Z0-9]{13}$/);
      expect(secondNow.ChangeInfo?.Status).toBe('PENDING');
      await waitInsync(second.ChangeInfo!.Id!);
    } finally {
      await raw.send(new DeleteHostedZoneCommand({ Id: otherZone })).catch(() => undefined);
      raw.destroy();
    }
  });
});

describe('strict AWS layer: Route 53 DELETE and CREATE preconditions, the batch refused whole', () => {
  // "To delete a resource record set, you must specify all the same values that you specified when you created
  // it"; change batches are transactional: "If validation for either the DELETE or the CREATE action fails, then
  // the request is canceled" (API reference, ChangeResourceRecordSets). moto checks a DELETE against its change
  // journal and accepts a CREATE over an existing record.
  beforeEach(async () => {
    await aws.control.propagation(0);
  });

  const a = (action: 'DELETE' | 'CREATE', label: string, value: string, ttl = 30): Change => ({
    Action: action,
    ResourceRecordSet: { Name: name(label), Type: 'A', TTL: ttl, ResourceRecords: [{ Value: value }] },
  });

  it('GIVEN a record WHEN a batch DELETEs exactly its values and CREATEs the new ones THEN it is swapped', async () => {
    await change([upsertA('strict-it-swap', '10.0.1.1')]);

    await change([a('DELETE', 'strict-it-swap', '10.0.1.1'), a('CREATE', 'strict-it-swap', '10.0.1.2')]);

    expect(await values('strict-it-swap')).toEqual(['10.0.1.2']);
  });

  it('GIVEN a record swapped away from a value and back WHEN a batch swaps it to that value again THEN it is swapped, as Route 53 does (moto alone refused it "already exists": the CREATE was in its journal)', async () => {
    await change([upsertA('strict-it-back', '10.0.5.1'), upsertA('strict-it-back-z', '10.0.5.9')]);
    await change([a('DELETE', 'strict-it-back', '10.0.5.1'), a('CREATE', 'strict-it-back', '10.0.5.2')]);
    await change([a('DELETE', 'strict-it-back', '10.0.5.2'), a('CREATE', 'strict-it-back', '10.0.5.1', 5)]);

    await change([a('DELETE', 'strict-it-back', '10.0.5.1', 5), a('CREATE', 'strict-it-back', '10.0.5.2')]);

    expect(await values('strict-it-back')).toEqual(['10.0.5.2']);
  });

  it('GIVEN 400 records WHEN one batch swaps them all (800 records, within the 1,000) THEN every one is swapped (moto counts UPSERTs twice: the layer sends its CREATEs as they are)', async () => {
    const labels = Array.from({ length: 400 }, (_, i) => `strict-it-many-${i}`);
    await change(labels.map((label) => upsertA(label, '10.0.6.1')));

    await change(labels.flatMap((label) => [a('DELETE', label, '10.0.6.1'), a('CREATE', label, '10.0.6.2')]));

    expect(await values(labels[0]!)).toEqual(['10.0.6.2']);
    expect(await values(labels[399]!)).toEqual(['10.0.6.2']);
  });

  it('GIVEN a record that holds another value, or another TTL, WHEN a batch DELETEs the old one THEN InvalidChangeBatch (400) and no change of the batch is made', async () => {
    await change([upsertA('strict-it-moved', '10.0.2.9'), upsertA('strict-it-bystander', '10.0.2.1')]);
    // moto alone accepted this DELETE: 10.0.2.1 was once written under the name (its change journal).
    await change([upsertA('strict-it-moved', '10.0.2.1')]);
    await change([upsertA('strict-it-moved', '10.0.2.9')]);

    const refused = await awsError(
      change([
        a('DELETE', 'strict-it-bystander', '10.0.2.1'),
        a('CREATE', 'strict-it-bystander', '10.0.2.2'),
        a('DELETE', 'strict-it-moved', '10.0.2.1'),
        a('CREATE', 'strict-it-moved', '10.0.2.2'),
      ]),
    );
    const ttlRefused = await awsError(
      change([a('DELETE', 'strict-it-moved', '10.0.2.9', 60), a('CREATE', 'strict-it-moved', '10.0.2.2')]),
    );

    expect(refused).toMatchObject({ code: 'InvalidChangeBatch', status: 400 });
    expect(refused.message).toContain(
      `Tried to delete resource record set [name='${name('strict-it-moved')}', type='A'] but the values provided do not match the current values`,
    );
    expect(ttlRefused).toMatchObject({ code: 'InvalidChangeBatch', status: 400 });
    expect(await values('strict-it-moved')).toEqual(['10.0.2.9']);
    expect(await values('strict-it-bystander')).toEqual(['10.0.2.1']);
  });

  it('GIVEN a record WHEN a batch CREATEs it again THEN InvalidChangeBatch (400) "already exists"; a DELETE of a missing one "was not found"', async () => {
    await change([upsertA('strict-it-exists', '10.0.3.1')]);

    const exists = await awsError(change([a('CREATE', 'strict-it-exists', '10.0.3.2')]));
    const missing = await awsError(change([a('DELETE', 'strict-it-never', '10.0.3.1')]));

    expect(exists.message).toContain(
      `Tried to create resource record set [name='${name('strict-it-exists')}', type='A'] but it already exists`,
    );
    expect(missing.message).toContain('but it was not found');
    expect(await values('strict-it-exists')).toEqual(['10.0.3.1']);
    const stats = (await aws.control.stats()).operations.ChangeResourceRecordSets;
    expect(stats?.refused).toEqual({ InvalidChangeBatch: 2 });
  });
});

describe('strict AWS layer: Route 53 change batch limits', () => {
  beforeEach(async () => {
    await aws.control.propagation(0);
  });

  it('GIVEN 500 UPSERTs (1,000 records counted) THEN accepted; GIVEN 501 (1,002) THEN InvalidChangeBatch (400) and no record is written', async () => {
    // "A request cannot contain more than 1000 ResourceRecord elements. When the value of the Action element is
    // UPSERT, each ResourceRecord element is counted twice."
    const batch = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) =>
        upsertA(`${prefix}-${i}`, `10.2.${Math.floor(i / 250)}.${i % 250}`),
      );

    await change(batch(500, 'strict-it-fits'));
    const refused = await awsError(change(batch(501, 'strict-it-over')));

    expect(await values('strict-it-fits-499')).toEqual(['10.2.1.249']);
    expect(refused).toMatchObject({ code: 'InvalidChangeBatch', status: 400 });
    expect(refused.message).toContain('1002 ResourceRecord elements');
    expect(await values('strict-it-over-0')).toBeUndefined();
  });

  it('GIVEN TXT values of 16,128 characters THEN a CREATE is accepted and an UPSERT (counted twice: 32,256) is InvalidChangeBatch (400)', async () => {
    // "The sum of the number of characters (including spaces) in all Value elements in a request cannot exceed
    // 32,000 characters. When the value of the Action element is UPSERT, each character in a Value element is
    // counted twice."
    const longValues = Array.from({ length: 64 }, (_, i) => ({ Value: `"${String(i).padStart(250, 'x')}"` }));
    const txt = (action: 'CREATE' | 'UPSERT', label: string): Change => ({
      Action: action,
      ResourceRecordSet: { Name: name(label), Type: 'TXT', TTL: 30, ResourceRecords: longValues },
    });

    await change([txt('CREATE', 'strict-it-txt-create')]);
    const refused = await awsError(change([txt('UPSERT', 'strict-it-txt-upsert')]));

    expect(await values('strict-it-txt-create', 'TXT')).toHaveLength(64);
    expect(refused).toMatchObject({ code: 'InvalidChangeBatch', status: 400 });
    expect(refused.message).toContain('32256 characters');
    expect(await values('strict-it-txt-upsert', 'TXT')).toBeUndefined();
  });
});
