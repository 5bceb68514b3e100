import { XMLParser } from 'fast-xml-parser';
import type { EstateModel } from './estate-model';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';
import { escapeXml } from './xml-tree';

/**
 * Limits of one ChangeResourceRecordSets request, from "Quotas on API requests" in the Route 53 Developer Guide
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests): at most
 * 1,000 ResourceRecord elements and 32,000 characters in all Value elements; "When the value of the Action
 * element is UPSERT, each ResourceRecord element is counted twice" and "each character in a Value element is
 * counted twice". Route 53 answers a batch over either limit with HTTP 400 InvalidChangeBatch.
 */
export const MAX_RESOURCE_RECORDS = 1_000;
export const MAX_VALUE_CHARACTERS = 32_000;

const batchParser = new XMLParser({
  parseTagValue: false,
  isArray: (name) => name === 'Change' || name === 'ResourceRecord',
});

interface ParsedChange {
  Action?: string;
  ResourceRecordSet?: { ResourceRecords?: { ResourceRecord?: Array<{ Value?: unknown }> } };
}

/** How a change batch counts against the limits (UPSERTs twice). */
export function countChangeBatch(xml: string): { records: number; valueCharacters: number } {
  const parsed = batchParser.parse(xml) as {
    ChangeResourceRecordSetsRequest?: { ChangeBatch?: { Changes?: { Change?: ParsedChange[] } } };
  };
  let records = 0;
  let valueCharacters = 0;
  for (const change of parsed.ChangeResourceRecordSetsRequest?.ChangeBatch?.Changes?.Change ?? []) {
    const weight = change.Action === 'UPSERT' ? 2 : 1;
    for (const record of change.ResourceRecordSet?.ResourceRecords?.ResourceRecord ?? []) {
      records += weight;
      valueCharacters += weight * String(record.Value ?? '').length;
    }
  }
  return { records, valueCharacters };
}

/** The hosted zone id in `/2013-04-01/hostedzone/Z123/rrset`. */
function zoneIdOf(url: string): string {
  return url.split('?')[0]!.split('/')[3] ?? '';
}

/** The change id in `/2013-04-01/change/C123`. */
function changeIdOf(url: string): string {
  return url.split('?')[0]!.split('/')[3] ?? '';
}

const CHANGE_ID = /<Id>(?:\/change\/)?([^<]+)<\/Id>/;
const INSYNC = '<Status>INSYNC</Status>';
const PENDING = '<Status>PENDING</Status>';

/**
 * Route 53's refusals and its propagation, which moto lacks (it answers INSYNC at once):
 * - a change batch over the limits → InvalidChangeBatch;
 * - a change while the zone's previous change is still PENDING → PriorRequestNotComplete, "The request was
 *   rejected because Route 53 was still processing a prior request." (same Developer Guide page; also
 *   https://repost.aws/knowledge-center/route-53-avoid-throttling-errors);
 * - ChangeResourceRecordSets answers PENDING and GetChange stays PENDING for `route53PropagationMs`, then INSYNC:
 *   "Initially, the status of a change is PENDING … When the change is propagated to all hosts, the change
 *   returns a status of INSYNC" (API reference, ChangeResourceRecordSets). The records themselves are listed at
 *   once, as in AWS, where PENDING is about the name servers, not the API's view.
 */
export function createRoute53Rules(
  settings: () => StrictAwsSettings,
  model: EstateModel,
): Record<string, StrictRule> {
  async function changeResourceRecordSets(call: StrictCall): Promise<StrictOutcome | undefined> {
    const { rules, route53PropagationMs } = settings();
    const zoneId = zoneIdOf(call.info.url);
    if (rules.route53BatchLimits && call.body !== undefined) {
      const { records, valueCharacters } = countChangeBatch(call.body.toString('utf8'));
      const problems: string[] = [];
      if (records > MAX_RESOURCE_RECORDS)
        problems.push(
          `The change batch holds ${records} ResourceRecord elements (an UPSERT counts twice); the limit is ${MAX_RESOURCE_RECORDS}. Split it into smaller batches.`,
        );
      if (valueCharacters > MAX_VALUE_CHARACTERS)
        problems.push(
          `The change batch holds ${valueCharacters} characters in Value elements (an UPSERT counts twice); the limit is ${MAX_VALUE_CHARACTERS}. Split it into smaller batches.`,
        );
      if (problems.length > 0) {
        return {
          kind: 'refuse',
          error: { status: 400, code: 'InvalidChangeBatch', message: problems.join(' '), type: 'Sender' },
          extraErrorXml: `<Messages>${problems.map((p) => `<Message>${escapeXml(p)}</Message>`).join('')}</Messages>`,
        };
      }
    }
    const pending = model.zoneChanges.get(zoneId);
    if (rules.route53PriorRequestNotComplete && pending !== undefined && call.now < pending.insyncAt) {
      return refuse(
        400,
        'PriorRequestNotComplete',
        'The request was rejected because Route 53 was still processing a prior request.',
      );
    }
    // Two batches for one zone sent at once: the second is refused, as Route 53 processes one change at a time.
    model.zoneChanges.set(zoneId, { changeId: '', insyncAt: Number.POSITIVE_INFINITY });
    return {
      kind: 'forward',
      rewrite: (body) => {
        const changeId = CHANGE_ID.exec(body)?.[1];
        const insyncAt = Date.now() + route53PropagationMs;
        if (changeId === undefined || route53PropagationMs <= 0) {
          model.zoneChanges.delete(zoneId);
          return body;
        }
        model.zoneChanges.set(zoneId, { changeId, insyncAt });
        model.changeInsyncAt.set(changeId, insyncAt);
        return body.replace(INSYNC, PENDING);
      },
      after: (status) => {
        if (status >= 200 && status < 300) return;
        if (pending === undefined) model.zoneChanges.delete(zoneId);
        else model.zoneChanges.set(zoneId, pending);
      },
    };
  }

  async function getChange(call: StrictCall): Promise<StrictOutcome | undefined> {
    const insyncAt = model.changeInsyncAt.get(changeIdOf(call.info.url));
    if (insyncAt === undefined || call.now >= insyncAt) return undefined;
    return { kind: 'forward', rewrite: (body) => body.replace(INSYNC, PENDING) };
  }

  return { ChangeResourceRecordSets: changeResourceRecordSets, GetChange: getChange };
}
