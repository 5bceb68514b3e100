/**
 * A KMS key as AWS APIs take it: a key id (a UUID, or `mrk-` and 32 hex digits for a multi-Region key), an alias
 * (`alias/name`), or the ARN of either (KMS Developer Guide, "Key identifiers (KeyId)").
 */
const KMS_KEY_ID =
  /^(arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|[0-9a-f-]{36}|mrk-[0-9a-f]{32}|alias\/[A-Za-z0-9/_-]+)$/;

export function isKmsKeyId(value: string): boolean {
  return KMS_KEY_ID.test(value);
}

/**
 * The ARN of a KMS key itself (not of an alias), in any AWS partition (aws, aws-cn, aws-us-gov, aws-iso, …): what
 * KMS names in its answers, and a payload names its key by. A key id is a UUID, or for a multi-Region key `mrk-` and
 * 32 hex digits (KMS Developer Guide, "Key identifiers"); `mrk-` and a UUID is moto's spelling, taken too.
 */
const KMS_KEY_ARN =
  /^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:key\/(mrk-[0-9a-f]{32}|(mrk-)?[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/;

export function isKmsKeyArn(value: string): boolean {
  return KMS_KEY_ARN.test(value);
}
