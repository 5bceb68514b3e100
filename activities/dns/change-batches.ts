import type { DnsUpsert } from './route53-port';

/**
 * Route 53's limits on one ChangeResourceRecordSets request ("Quotas on API requests", Route 53 Developer Guide):
 * at most 1,000 ResourceRecord elements and 32,000 characters in all Value elements, and for an UPSERT each
 * ResourceRecord and each Value character counts twice. So one batch holds at most 500 single-valued UPSERTs.
 */
export const MAX_BATCH_RECORDS = 1_000;
export const MAX_BATCH_VALUE_CHARACTERS = 32_000;
const UPSERT_WEIGHT = 2;

/** Splits UPSERTs into the fewest batches, in order, each within Route 53's limits. */
export function changeBatches(upserts: DnsUpsert[]): DnsUpsert[][] {
  const batches: DnsUpsert[][] = [];
  let current: DnsUpsert[] = [];
  let records = 0;
  let characters = 0;
  for (const upsert of upserts) {
    const weight = UPSERT_WEIGHT;
    const chars = UPSERT_WEIGHT * upsert.value.length;
    if (chars > MAX_BATCH_VALUE_CHARACTERS) {
      throw new RangeError(
        `the value of ${upsert.type} ${upsert.name} is ${upsert.value.length} characters; an UPSERT of it exceeds Route 53's ${MAX_BATCH_VALUE_CHARACTERS} characters per change batch`,
      );
    }
    if (
      current.length > 0 &&
      (records + weight > MAX_BATCH_RECORDS || characters + chars > MAX_BATCH_VALUE_CHARACTERS)
    ) {
      batches.push(current);
      current = [];
      records = 0;
      characters = 0;
    }
    current.push(upsert);
    records += weight;
    characters += chars;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
