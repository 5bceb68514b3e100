import { recordValues } from '../../common/record-values';
import type { DnsSwap, DnsUpsert } from '../../activities/dns/route53-port';

/**
 * Route 53's limits on one ChangeResourceRecordSets request ("Quotas on API requests", Route 53 Developer Guide):
 * at most 1,000 ResourceRecord elements and 32,000 characters in all Value elements, and for an UPSERT each
 * ResourceRecord and each Value character counts twice. So one batch holds at most 500 single-valued UPSERTs, or
 * 500 swaps of a single-valued record (a DELETE and a CREATE, each counted once).
 */
export const MAX_BATCH_RECORDS = 1_000;
export const MAX_BATCH_VALUE_CHARACTERS = 32_000;
const UPSERT_WEIGHT = 2;

/** Splits UPSERTs into the fewest batches, in order, each within Route 53's limits. */
export function changeBatches(upserts: DnsUpsert[]): DnsUpsert[][] {
  return batchesWithin(upserts, (upsert) => ({
    label: `an UPSERT of ${upsert.type} ${upsert.name}`,
    records: UPSERT_WEIGHT * recordValues(upsert).length,
    characters: UPSERT_WEIGHT * characterCount(recordValues(upsert)),
  }));
}

/** Splits swaps (DELETE of the old set + CREATE of the new) into the fewest batches, in order, within the limits. */
export function swapBatches(swaps: DnsSwap[]): DnsSwap[][] {
  return batchesWithin(swaps, (swap) => {
    const old = swap.from?.values ?? [];
    return {
      label: `a swap of ${swap.type} ${swap.name}`,
      records: old.length + recordValues(swap.to).length,
      characters: characterCount(old) + characterCount(recordValues(swap.to)),
    };
  });
}

function characterCount(values: readonly string[]): number {
  return values.reduce((sum, value) => sum + value.length, 0);
}

function batchesWithin<T>(
  changes: T[],
  weigh: (change: T) => { label: string; records: number; characters: number },
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let records = 0;
  let characters = 0;
  for (const change of changes) {
    const weight = weigh(change);
    if (weight.characters > MAX_BATCH_VALUE_CHARACTERS || weight.records > MAX_BATCH_RECORDS) {
      throw new RangeError(
        `${weight.label} counts ${weight.records} ResourceRecord elements and ${weight.characters} value characters; Route 53 allows ${MAX_BATCH_RECORDS} and ${MAX_BATCH_VALUE_CHARACTERS} per change batch`,
      );
    }
    if (
      current.length > 0 &&
      (records + weight.records > MAX_BATCH_RECORDS ||
        characters + weight.characters > MAX_BATCH_VALUE_CHARACTERS)
    ) {
      batches.push(current);
      current = [];
      records = 0;
      characters = 0;
    }
    current.push(change);
    records += weight.records;
    characters += weight.characters;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
