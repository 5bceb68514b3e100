import { z } from 'zod';
import { STEP_KINDS } from '../kinds/registry';
import { DATABASE_PROVIDERS } from '../providers/database/registry';
import { duration, name, NAME_PATTERN, text } from './schema-parts';

/**
 * The runbook schema, composed from the step-kind and database-provider registries. A runbook is plain JSON
 * once validated, so the workflow receives it by value and the workflow history pins exactly what ran.
 */

type Schemas<T extends readonly { schema: z.ZodObject }[]> = { -readonly [I in keyof T]: T[I]['schema'] };
type TargetSchemas<T extends readonly { targetSchema: z.ZodObject }[]> = {
  -readonly [I in keyof T]: T[I]['targetSchema'];
};

const leafSchemas = STEP_KINDS.map((kind) => kind.schema) as unknown as Schemas<typeof STEP_KINDS>;

export const databaseTargetSchema = z.discriminatedUnion(
  'provider',
  DATABASE_PROVIDERS.map((provider) => provider.targetSchema) as unknown as TargetSchemas<
    typeof DATABASE_PROVIDERS
  >,
);

export const leafStepSchema = z.discriminatedUnion('kind', leafSchemas);

export const RUNBOOK_MODES = ['planned', 'unplanned'] as const;
export const runbookModeSchema = z.enum(RUNBOOK_MODES);
export type RunbookMode = (typeof RUNBOOK_MODES)[number];

export const parallelStepSchema = z
  .object({
    id: name,
    title: text().optional(),
    kind: z.literal('parallel'),
    steps: z.array(leafStepSchema).min(2),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('kind', [...leafSchemas, parallelStepSchema]);

export const runbookSchema = z
  .object({
    id: name,
    title: text(),
    owner: text(),
    description: z.string().optional(),
    objectives: z.object({ rto: duration(), rpo: duration() }).strict(),
    /**
     * `planned`: a switchover with everything healthy — the old primary must be reachable and fenced, and the
     * promotion loses nothing (it waits for the replica to replay the primary's last WAL; Aurora global databases
     * switch over). `unplanned`: an outage — the run goes on with what the surviving region can do, asks people
     * where it cannot fence, and records what it could not do and the data it may have lost. Default: unplanned.
     */
    mode: runbookModeSchema.default('unplanned'),
    targets: z
      .object({
        databases: z.record(z.string().regex(NAME_PATTERN), databaseTargetSchema).default({}),
      })
      .strict()
      .prefault({}),
    steps: z.array(stepSchema).min(1, { message: 'a runbook needs at least one step' }),
  })
  .strict();

export type RunbookInput = z.input<typeof runbookSchema>;
export type Runbook = z.output<typeof runbookSchema>;
export type Step = z.output<typeof stepSchema>;
export type LeafStep = z.output<typeof leafStepSchema>;
export type ParallelStep = z.output<typeof parallelStepSchema>;
export type LeafStepKind = LeafStep['kind'];
export type StepOf<K extends LeafStepKind> = Extract<LeafStep, { kind: K }>;
export type DatabaseTarget = z.output<typeof databaseTargetSchema>;
export type { RetryPolicy, ZoneRef } from './schema-parts';
export type { RecordTarget } from '../kinds/dns-switch/definition';
export type { HttpProbe, SqlProbe } from '../kinds/probe/definition';
