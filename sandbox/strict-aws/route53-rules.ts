import { randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { EstateModel } from './estate-model';
import type { MotoLookup } from './moto-lookup';
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
  ResourceRecordSet?: {
    Name?: unknown;
    Type?: unknown;
    TTL?: unknown;
    SetIdentifier?: unknown;
    AliasTarget?: unknown;
    ResourceRecords?: { ResourceRecord?: Array<{ Value?: unknown }> };
  };
}

function parsedChanges(xml: string): ParsedChange[] {
  const parsed = batchParser.parse(xml) as {
    ChangeResourceRecordSetsRequest?: { ChangeBatch?: { Changes?: { Change?: ParsedChange[] } } };
  };
  return parsed.ChangeResourceRecordSetsRequest?.ChangeBatch?.Changes?.Change ?? [];
}

/** A record set's key as Route 53 compares names: case-insensitive, with the trailing dot. */
function setKey(name: string, type: string): string {
  const lower = name.toLowerCase();
  return `${lower.endsWith('.') ? lower : `${lower}.`} ${type}`;
}

/** TTL and values in a comparable form (values as a sorted list: a set's values are unordered). */
function setState(ttl: unknown, values: unknown[]): string {
  return `${String(ttl)} ${JSON.stringify(values.map(String).sort())}`;
}

/**
 * What Route 53 would refuse in a batch of plain record sets, given the zone's current sets: a DELETE must name a
 * set that exists with exactly its TTL and values, a CREATE one that does not exist, each as the batch's earlier
 * changes left the zone ("To delete a resource record set, you must specify all the same values that you
 * specified when you created it"; change batches are transactional: "If validation for either the DELETE or the
 * CREATE action fails, then the request is canceled", API reference, ChangeResourceRecordSets). The messages are
 * Route 53's InvalidChangeBatch messages. Weighted, alias and other routed sets are not checked.
 */
function changePreconditionFailures(
  changes: ParsedChange[],
  current: Array<{ Name?: string; Type?: string; TTL?: number; ResourceRecords?: Array<{ Value?: string }> }>,
): string[] {
  const zone = new Map<string, string>();
  for (const set of current)
    zone.set(
      setKey(set.Name ?? '', set.Type ?? ''),
      setState(
        set.TTL,
        (set.ResourceRecords ?? []).map((r) => r.Value),
      ),
    );
  const failures: string[] = [];
  for (const change of changes) {
    const set = change.ResourceRecordSet;
    if (set === undefined || set.SetIdentifier !== undefined || set.AliasTarget !== undefined) continue;
    const name = String(set.Name ?? '');
    const key = setKey(name, String(set.Type ?? ''));
    const shown = `[name='${key.slice(0, key.lastIndexOf(' '))}', type='${String(set.Type ?? '')}']`;
    const state = setState(
      set.TTL,
      (set.ResourceRecords?.ResourceRecord ?? []).map((r) => r.Value),
    );
    const existing = zone.get(key);
    if (change.Action === 'DELETE') {
      if (existing === undefined)
        failures.push(`Tried to delete resource record set ${shown} but it was not found`);
      else if (existing !== state)
        failures.push(
          `Tried to delete resource record set ${shown} but the values provided do not match the current values`,
        );
      else zone.delete(key);
    } else if (change.Action === 'CREATE') {
      if (existing !== undefined)
        failures.push(`Tried to create resource record set ${shown} but it already exists`);
      else zone.set(key, state);
    } else if (change.Action === 'UPSERT') {
      zone.set(key, state);
    }
  }
  return failures;
}

/**
 * The batch moto is sent once this layer found its DELETEs and CREATEs valid: each CREATE as an UPSERT, which
 * has the same effect on a record set the layer saw absent (or DELETEd earlier in the batch). moto refuses a
 * CREATE identical to one in its change journal whenever any record sorts at or after its name
 * (ResourceRecordAlreadyExists, checked before the batch's DELETEs apply), so a swap back to a value a record held
 * before was refused there; Route 53 accepts it: the batch's DELETE removes the set, its CREATE adds it again
 * ("If validation for either the DELETE or the CREATE action fails, then the request is canceled", API reference,
 * ChangeResourceRecordSets). Undefined (sent as it is) when a CREATE names a routing policy or an alias, which
 * the layer does not check, or when moto would count the UPSERTs over its limit.
 */
function motoSafeBatch(body: Buffer, changes: ParsedChange[]): Buffer | undefined {
  const creates = changes.filter((change) => change.Action === 'CREATE');
  if (creates.length === 0) return undefined;
  const unchecked = creates.some(
    (change) =>
      change.ResourceRecordSet?.SetIdentifier !== undefined ||
      change.ResourceRecordSet?.AliasTarget !== undefined,
  );
  if (unchecked) return undefined;
  const rewritten = body
    .toString('utf8')
    .replace(/<Action>\s*CREATE\s*<\/Action>/g, '<Action>UPSERT</Action>');
  // moto counts an UPSERT's records twice, as Route 53 does: a batch that fits as CREATEs may not as UPSERTs
  // (a swap of 500 records). It goes as sent; only a swap back to a value in moto's journal then meets its refusal.
  if (countChangeBatch(rewritten).records > MAX_RESOURCE_RECORDS) return undefined;
  return Buffer.from(rewritten);
}

/** How a change batch counts against the limits (UPSERTs twice). */
export function countChangeBatch(xml: string): { records: number; valueCharacters: number } {
  let records = 0;
  let valueCharacters = 0;
  for (const change of parsedChanges(xml)) {
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
const CHANGE_ID_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A change id shaped like Route 53's (`C` and 13 upper-case letters and digits). */
function newChangeId(): string {
  return `C${Array.from(randomBytes(13), (byte) => CHANGE_ID_LETTERS[byte % CHANGE_ID_LETTERS.length]).join('')}`;
}
const INSYNC = '<Status>INSYNC</Status>';
const PENDING = '<Status>PENDING</Status>';

/**
 * Route 53's refusals and its propagation, which moto lacks (it answers INSYNC at once):
 * - a change batch over the limits → InvalidChangeBatch;
 * - a DELETE of a record set that is not there or holds other values, or a CREATE of one that exists →
 *   InvalidChangeBatch, the whole batch refused (`changePreconditionFailures`);
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
  lookup: MotoLookup,
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
    const restorePending = () => {
      if (pending === undefined) model.zoneChanges.delete(zoneId);
      else model.zoneChanges.set(zoneId, pending);
    };
    // moto's answer to a batch this layer has checked: its CREATEs sent as UPSERTs (see `motoSafeBatch`).
    let forwardBody: Buffer | undefined;
    if (rules.route53ChangePreconditions && call.body !== undefined) {
      const changes = parsedChanges(call.body.toString('utf8'));
      if (changes.some((change) => change.Action === 'DELETE' || change.Action === 'CREATE')) {
        let failures: string[];
        let checked = true;
        try {
          failures = changePreconditionFailures(changes, await lookup.recordSets(zoneId));
        } catch {
          failures = []; // an unknown zone: moto answers NoSuchHostedZone itself
          checked = false;
        }
        if (failures.length > 0) {
          restorePending();
          return {
            kind: 'refuse',
            error: {
              status: 400,
              code: 'InvalidChangeBatch',
              message: `[${failures.join(', ')}]`,
              type: 'Sender',
            },
            extraErrorXml: `<Messages>${failures.map((f) => `<Message>${escapeXml(f)}</Message>`).join('')}</Messages>`,
          };
        }
        if (checked) forwardBody = motoSafeBatch(call.body, changes);
      }
    }
    return {
      kind: 'forward',
      ...(forwardBody === undefined ? {} : { body: forwardBody }),
      rewrite: (body) => {
        if (CHANGE_ID.exec(body) === null) {
          model.zoneChanges.delete(zoneId);
          return body;
        }
        // moto answers every change with the same id (and GetChange echoes any id), so one change's status would
        // follow the newest change of any zone: each change gets an id of its own, as in Route 53.
        const changeId = newChangeId();
        const numbered = body.replace(CHANGE_ID, (whole, id: string) => whole.replace(id, changeId));
        if (route53PropagationMs <= 0) {
          model.zoneChanges.delete(zoneId);
          return numbered;
        }
        const insyncAt = Date.now() + route53PropagationMs;
        model.zoneChanges.set(zoneId, { changeId, insyncAt });
        model.changeInsyncAt.set(changeId, insyncAt);
        return numbered.replace(INSYNC, PENDING);
      },
      after: (status) => {
        if (status < 200 || status >= 300) restorePending();
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
