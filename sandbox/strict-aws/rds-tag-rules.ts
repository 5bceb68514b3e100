import type { MotoLookup } from './moto-lookup';
import { refuse, type StrictCall, type StrictOutcome, type StrictRule } from './strict-call';
import type { StrictAwsSettings } from './strict-settings';

const MAX_KEY = 128;
const MAX_VALUE = 256;
const MAX_TAGS = 50;
const ALLOWED = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * RDS's constraints on a tag, which moto does not check: "A key ... can be from 1 to 128 Unicode characters in
 * length", "A value ... can be from 1 to 256 Unicode characters in length", neither "prefixed with aws: or rds:",
 * and both only of "Unicode letters, digits, white-space, '_', '.', ':', '/', '=', '+', '-', '@'" (Tag data type,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html). AddTagsToResource with a tag that breaks
 * one → HTTP 400 InvalidParameterValue, and none of the call's tags is added.
 *
 * And the count: "Each Amazon RDS resource can have up to 50 tags" (Tagging Amazon RDS resources,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html); a key the resource already carries is
 * replaced. moto adds any number. RDS's API reference names no error of its own for this, so the layer answers
 * with the common InvalidParameterValue, and adds none of the call's tags.
 */
export function createRdsTagRules(
  settings: () => StrictAwsSettings,
  lookup: MotoLookup,
): Record<string, StrictRule> {
  async function addTagsToResource(call: StrictCall): Promise<StrictOutcome | undefined> {
    if (!settings().rules.rdsTagConstraints) return undefined;
    for (const [index, { key, value }] of tagsOf(call.params)) {
      const broken = brokenConstraint(key, value);
      if (broken !== undefined)
        return refuse(400, 'InvalidParameterValue', `Invalid tag ${index} (key "${key}"): ${broken}`);
    }
    const arn = call.params.get('ResourceName') ?? '';
    const carried = await lookup.tagKeys(arn);
    if (carried === undefined) return undefined;
    const after = new Set([...carried, ...[...tagsOf(call.params).values()].map((tag) => tag.key)]).size;
    if (after > MAX_TAGS)
      return refuse(
        400,
        'InvalidParameterValue',
        `${arn} carries ${carried.length} tags; adding these would make ${after}, and a resource can have at most ${MAX_TAGS}`,
      );
    return undefined;
  }
  return { AddTagsToResource: addTagsToResource };
}

/** The call's tags by their index in the request (`Tags.Tag.<n>.Key` / `.Value`; `member` in some encoders). */
function tagsOf(params: URLSearchParams): Map<string, { key: string; value: string }> {
  const tags = new Map<string, { key: string; value: string }>();
  for (const [name, text] of params) {
    const field = /^Tags\.(?:Tag|member)\.(\d+)\.(Key|Value)$/.exec(name);
    if (field === null) continue;
    const [, index = '', part] = field;
    const tag = tags.get(index) ?? { key: '', value: '' };
    if (part === 'Key') tag.key = text;
    else tag.value = text;
    tags.set(index, tag);
  }
  return tags;
}

function brokenConstraint(key: string, value: string): string | undefined {
  const length = (text: string) => [...text].length;
  if (length(key) < 1 || length(key) > MAX_KEY)
    return `a key must be from 1 to ${MAX_KEY} characters, not ${length(key)}`;
  if (length(value) > MAX_VALUE)
    return `a value must be at most ${MAX_VALUE} characters, not ${length(value)}`;
  if (/^(aws|rds):/.test(key) || /^(aws|rds):/.test(value))
    return 'a key or value must not start with aws: or rds:';
  if (!ALLOWED.test(key) || !ALLOWED.test(value))
    return 'only letters, digits, white space and _ . : / = + - @ are allowed';
  return undefined;
}
