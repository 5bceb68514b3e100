import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { MOTO_CREDENTIALS } from '../../sandbox/aws-clients';
import type { StackInfo } from '../../sandbox/stack-info';

const INSYNC_POLL_MS = 50;
const INSYNC_WAIT_MS = 10_000;

/**
 * Points a record (an A record unless told) at `value`, or at every one of several values, straight on moto
 * (never through drctl), as an operator's script would: UPSERT, then wait until Route 53 reports the change INSYNC
 * (what `aws route53 wait resource-record-sets-changed` does). Without the wait, the test's next change to the
 * zone within the sandbox's propagation time is refused with PriorRequestNotComplete, as AWS refuses it. The zone
 * is looked up by name (a reset changes its id).
 */
export async function pointRecordAt(
  stack: StackInfo,
  name: string,
  value: string | string[],
  ttl = 30,
  type: 'A' | 'CNAME' = 'A',
): Promise<void> {
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint: stack.moto.endpoint,
    credentials: MOTO_CREDENTIALS,
  });
  try {
    const zones = await route53.send(
      new ListHostedZonesByNameCommand({ DNSName: stack.aws.route53.zoneName }),
    );
    const zoneId =
      zones.HostedZones?.find((zone) => zone.Name === stack.aws.route53.zoneName)?.Id ??
      stack.aws.route53.zoneId;
    const submitted = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: name,
                Type: type,
                TTL: ttl,
                ResourceRecords: [value].flat().map((one) => ({ Value: one })),
              },
            },
          ],
        },
      }),
    );
    const changeId = submitted.ChangeInfo?.Id;
    const deadline = Date.now() + INSYNC_WAIT_MS;
    let status = submitted.ChangeInfo?.Status;
    while (status !== 'INSYNC' && changeId !== undefined) {
      if (Date.now() > deadline)
        throw new Error(`Route 53 change ${changeId} for ${name} was not INSYNC within ${INSYNC_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, INSYNC_POLL_MS));
      status = (await route53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status;
    }
  } finally {
    route53.destroy();
  }
}
