import type { ZoneRef } from '../../runbooks/schema';
import { PermanentFailure, permanentFailure } from '../failures';
import { fqdn } from '../../common/record-name';
import type { DnsRecordType, Route53Port } from './route53-port';

/**
 * What `name` answers in `zone`, the way a client would see it: Route 53's TestDNSAnswer, or the record set
 * itself where the endpoint lacks that API (moto). With no `type`, an A record is tried first, then a CNAME.
 */
export async function resolveRecord(
  route53: Route53Port,
  zone: ZoneRef,
  name: string,
  type?: 'A' | 'CNAME',
): Promise<string> {
  const hostedZone = await route53.findZone(zone);
  for (const candidate of type ? [type] : (['A', 'CNAME'] as const)) {
    const value = (await answerValues(route53, hostedZone.id, name, candidate))[0];
    if (value !== undefined) return value;
  }
  throw permanentFailure(
    PermanentFailure.NotFound,
    `${fqdn(name)} has no ${type ?? 'A or CNAME'} record in zone ${hostedZone.name} (${hostedZone.id}); check the record name in the runbook or create it`,
  );
}

/** The values a name answers for one type: TestDNSAnswer when available, else the stored record set. */
export async function answerValues(
  route53: Route53Port,
  zoneId: string,
  name: string,
  type: DnsRecordType,
): Promise<string[]> {
  const answer = await route53.testDnsAnswer(zoneId, name, type);
  if (answer.supported)
    return answer.responseCode === 'NOERROR' || answer.responseCode === '' ? answer.values : [];
  return (await route53.getRecordSet(zoneId, name, type))?.values ?? [];
}
