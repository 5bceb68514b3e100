/**
 * The step kinds that change the estate (`mutates: true` in their definitions), as names only: the CLI's
 * renderer needs this list, and loading the registry for it would load every kind's schema. A unit test holds it
 * equal to the registry.
 */
export const MUTATING_KINDS: readonly string[] = [
  'database.fence',
  'database.promote',
  'dns.switch',
  'flags.set',
];
