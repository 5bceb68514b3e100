import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes drctl sets on its runs, so history comes from Temporal's visibility rather than a side
 * file. Never put anything sensitive here: search attributes are not encrypted by the payload codec.
 */
export const RUNBOOK_KEY = defineSearchAttributeKey('DrctlRunbook', SearchAttributeType.KEYWORD);
export const KIND_KEY = defineSearchAttributeKey('DrctlKind', SearchAttributeType.KEYWORD);
export const OUTCOME_KEY = defineSearchAttributeKey('DrctlOutcome', SearchAttributeType.KEYWORD);
export const INITIATOR_KEY = defineSearchAttributeKey('DrctlInitiator', SearchAttributeType.KEYWORD);
export const RTO_MS_KEY = defineSearchAttributeKey('DrctlRtoMs', SearchAttributeType.DOUBLE);
export const RPO_MS_KEY = defineSearchAttributeKey('DrctlRpoMs', SearchAttributeType.DOUBLE);

/** The `--search-attribute` flags the Temporal dev server needs for these keys. */
export const SEARCH_ATTRIBUTE_DECLARATIONS = [
  'DrctlRunbook=Keyword',
  'DrctlKind=Keyword',
  'DrctlOutcome=Keyword',
  'DrctlInitiator=Keyword',
  'DrctlRtoMs=Double',
  'DrctlRpoMs=Double',
];
