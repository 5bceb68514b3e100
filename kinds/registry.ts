import type { z } from 'zod';
import { approval } from './approval/definition';
import { backupsVerify } from './backups-verify/definition';
import { databaseFence } from './database-fence/definition';
import { databasePromote } from './database-promote/definition';
import { dnsSwitch } from './dns-switch/definition';
import { flagsSet } from './flags-set/definition';
import { preflight } from './preflight/definition';
import { probe } from './probe/definition';
import type { StepKind } from './step-kind';
import { wait } from './wait/definition';

/**
 * Every step kind drctl knows, one line each. The schema, validation, pre-flight, plan, interpreter, rollback
 * and failback all dispatch on this list; the worker loads each kind's activities from its folder. Pure: this
 * module is bundled into workflow code.
 */
export const STEP_KINDS = [
  preflight,
  databaseFence,
  databasePromote,
  dnsSwitch,
  flagsSet,
  backupsVerify,
  probe,
  wait,
  approval,
] as const;

type AnyKind = (typeof STEP_KINDS)[number];
export type StepKindName = AnyKind['kind'];

type ActivitiesOf<K> = K extends StepKind<z.ZodObject, infer A, unknown> ? A : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** The activity surface of every kind together: what the worker registers and the workflows call. */
export type KindActivities = UnionToIntersection<ActivitiesOf<AnyKind>>;

const BY_KIND = new Map<string, StepKind<z.ZodObject, unknown, unknown>>(
  STEP_KINDS.map((kind) => [kind.kind, kind as unknown as StepKind<z.ZodObject, unknown, unknown>]),
);

/** The definition of a kind, by name; the runbook schema guarantees the name is known. */
export function stepKind(kind: string): StepKind<z.ZodObject, unknown, unknown> {
  const found = BY_KIND.get(kind);
  if (found === undefined)
    throw new Error(`unknown step kind "${kind}" (known: ${[...BY_KIND.keys()].join(', ')})`);
  return found;
}

export const STEP_KIND_NAMES: readonly string[] = STEP_KINDS.map((kind) => kind.kind);
