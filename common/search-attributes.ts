import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';

/**
 * `defineSearchAttributeKey` of @temporalio/common, which returns exactly `{ name, type }`: written out so the
 * CLI can name its keys without loading the SDK (the SDK is loaded only by commands that talk to Temporal).
 */
function defineSearchAttributeKey<T extends SearchAttributeType>(
  name: string,
  type: T,
): SearchAttributeKey<T> {
  return { name, type };
}

/**
 * Search attributes drctl sets on its runs, so history comes from Temporal's visibility rather than a side
 * file. Never put anything sensitive here: search attributes are not encrypted by the payload codec.
 */
export const RUNBOOK_KEY = defineSearchAttributeKey('DrctlRunbook', 'KEYWORD');
export const KIND_KEY = defineSearchAttributeKey('DrctlKind', 'KEYWORD');
export const OUTCOME_KEY = defineSearchAttributeKey('DrctlOutcome', 'KEYWORD');
export const INITIATOR_KEY = defineSearchAttributeKey('DrctlInitiator', 'KEYWORD');
export const RTO_MS_KEY = defineSearchAttributeKey('DrctlRtoMs', 'DOUBLE');
export const RPO_MS_KEY = defineSearchAttributeKey('DrctlRpoMs', 'DOUBLE');

/** The `--search-attribute` flags the Temporal dev server needs for these keys. */
export const SEARCH_ATTRIBUTE_DECLARATIONS = [
  'DrctlRunbook=Keyword',
  'DrctlKind=Keyword',
  'DrctlOutcome=Keyword',
  'DrctlInitiator=Keyword',
  'DrctlRtoMs=Double',
  'DrctlRpoMs=Double',
];
