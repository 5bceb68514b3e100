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
 * file. They are the only run data Temporal stores in plain text (the payload codec encrypts everything else),
 * so each holds a value from a closed or checked form, never free text:
 *
 * | key              | value                                   | why it is safe                                          |
 * | ---------------- | --------------------------------------- | ------------------------------------------------------- |
 * | `DrctlRunbook`   | runbook id                              | schema: `[a-z0-9][a-z0-9-]*`; also part of the workflow id |
 * | `DrctlKind`      | `failover`, `failback`, `drill`, `plan` | fixed by drctl                                          |
 * | `DrctlOutcome`   | run status / `passed` / `called-off` / `refused` / `not-released` | closed lists in the workflows |
 * | `DrctlInitiator` | operator identity                       | config checks it is a user name or e-mail (no spaces); it is who acted, which an audit must show |
 * | `DrctlRtoMs`     | measured RTO in ms                      | a number                                                |
 * | `DrctlRpoMs`     | measured RPO in ms                      | a number                                                |
 *
 * Reasons, runbook content, connection names, hosts and errors never go here. A new key must keep to this rule
 * and be added to the table (and to the README's Security section).
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
