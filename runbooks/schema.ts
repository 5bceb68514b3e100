import { approversSchema } from '../auth/approval-rule';
import { z } from 'zod';
import { isDuration } from './duration';

/**
 * The runbook schema. A runbook is plain JSON once validated, so the workflow receives it by value and the
 * workflow history pins exactly what ran. Step kinds are a discriminated union on `kind`.
 */

const duration = z
  .string()
  .refine(isDuration, { message: 'must be a duration such as 250ms, 30s, 5m or 1h' });
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be lower-case letters, digits and dashes (e.g. ehr-db)' });

export const retryPolicySchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(100).default(5),
    initialInterval: duration.default('1s'),
    backoffCoefficient: z.number().min(1).max(10).default(2),
    maximumInterval: duration.default('30s'),
  })
  .strict();

const stepCommon = {
  id: name,
  title: z.string().min(1).optional(),
  /** Start-to-close timeout of one attempt. Default 5m. */
  timeout: duration.default('5m'),
  retry: retryPolicySchema.prefault({}),
  /** What the run does when the step fails after its retries: pause for an operator, abort, or go on. */
  onFailure: z.enum(['pause', 'abort', 'continue']).default('abort'),
};

const postgresMember = z
  .object({
    /** Name of a connection in the worker's configuration; the runbook never holds credentials. */
    connection: z.string().min(1),
    /** The address clients should reach this member at; what DNS points to after a switch. */
    endpoint: z.string().min(1),
  })
  .strict();

const rdsMember = z.object({ instanceId: z.string().min(1), region: z.string().min(1) }).strict();

export const databaseTargetSchema = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('postgres'),
      primary: postgresMember,
      replica: postgresMember,
      /** The largest replication lag pre-flight accepts. */
      maxLag: duration.default('30s'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('rds-instance'),
      primary: rdsMember,
      replica: rdsMember,
      maxLag: duration.default('30s'),
      /** How the old primary is fenced: stop it, or leave it (only when it is known to be gone). */
      fence: z.enum(['stop-instance', 'none']).default('stop-instance'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('aurora-cluster'),
      clusterId: z.string().min(1),
      region: z.string().min(1),
      /** The reader instance to promote to writer. */
      targetInstanceId: z.string().min(1),
      maxLag: duration.default('30s'),
    })
    .strict(),
]);

/** A hosted zone, by name (`sandbox.drctl.internal.`) or by id; exactly one of the two. */
const zoneRef = z
  .object({ name: z.string().min(1).optional(), id: z.string().min(1).optional() })
  .strict()
  .refine((zone) => (zone.name === undefined) !== (zone.id === undefined), {
    message: 'give exactly one of name and id',
  });

const recordTarget = z
  .object({
    name: z.string().min(1),
    type: z.enum(['A', 'AAAA', 'CNAME']),
    ttl: z.number().int().min(0).max(172800).default(60),
    /** Point the record at a database member's endpoint; DNS then only switches once it is confirmed writable. */
    pointTo: z
      .object({ database: z.string().min(1), member: z.enum(['primary', 'replica']) })
      .strict()
      .optional(),
    /** Or a literal value. Exactly one of pointTo and value. */
    value: z.string().min(1).optional(),
  })
  .strict()
  .refine((r) => (r.pointTo === undefined) !== (r.value === undefined), {
    message: 'give exactly one of pointTo and value',
  });

const sqlProbe = z
  .object({
    type: z.literal('sql'),
    /** Connection whose credentials the probe uses. */
    connection: z.string().min(1),
    /** Resolve the host through this Route 53 record first, as a client would. */
    via: z
      .object({ zone: zoneRef, record: z.string().min(1) })
      .strict()
      .optional(),
    /** Prove the database takes writes, not just reads. */
    write: z.boolean().default(true),
  })
  .strict();

const httpProbe = z
  .object({
    type: z.literal('http'),
    url: z.url(),
    expectStatus: z.number().int().min(100).max(599).default(200),
  })
  .strict();

const leafStepOptions = [
  z.object({ ...stepCommon, kind: z.literal('preflight') }).strict(),
  z.object({ ...stepCommon, kind: z.literal('database.fence'), database: z.string().min(1) }).strict(),
  z.object({ ...stepCommon, kind: z.literal('database.promote'), database: z.string().min(1) }).strict(),
  z
    .object({
      ...stepCommon,
      kind: z.literal('dns.switch'),
      zone: zoneRef,
      records: z.array(recordTarget).min(1).max(500),
      /** After INSYNC, ask Route 53 what it answers for each name and check it is the new value. */
      checkResolution: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      ...stepCommon,
      kind: z.literal('flags.set'),
      project: z.string().min(1).default('default'),
      environment: z.string().min(1).default('development'),
      flags: z.array(z.object({ name: z.string().min(1), enabled: z.boolean() }).strict()).min(1),
    })
    .strict(),
  z
    .object({
      ...stepCommon,
      kind: z.literal('backups.verify'),
      bucket: z.string().min(3),
      region: z.string().min(1).optional(),
      prefix: z.string().default(''),
      /** Newest backup must be younger than this; defaults to the runbook's RPO objective. */
      maxAge: duration.optional(),
      lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
      /** The newest backup must stay locked at least this long from now. */
      minRetention: duration.default('1d'),
    })
    .strict(),
  z
    .object({
      ...stepCommon,
      kind: z.literal('probe'),
      probe: z.discriminatedUnion('type', [sqlProbe, httpProbe]),
    })
    .strict(),
  z.object({ ...stepCommon, kind: z.literal('wait'), duration }).strict(),
  z
    .object({
      ...stepCommon,
      kind: z.literal('approval'),
      /** What the approver is asked to confirm. */
      prompt: z.string().min(1).optional(),
      /** Production rule: the approver must be someone other than the operator who started the run. */
      twoPerson: z.boolean().default(false),
      /** Who must approve: `{ count: 2, group: 'dba', forbidInitiator: true }` (verified key owners, see auth/). */
      approvers: approversSchema.optional(),
    })
    .strict(),
] as const;

export const leafStepSchema = z.discriminatedUnion('kind', [...leafStepOptions]);

export const parallelStepSchema = z
  .object({
    id: name,
    title: z.string().min(1).optional(),
    kind: z.literal('parallel'),
    steps: z.array(leafStepSchema).min(2),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('kind', [...leafStepOptions, parallelStepSchema]);

export const runbookSchema = z
  .object({
    id: name,
    title: z.string().min(1),
    owner: z.string().min(1),
    description: z.string().optional(),
    objectives: z.object({ rto: duration, rpo: duration }).strict(),
    targets: z
      .object({
        databases: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), databaseTargetSchema).default({}),
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
export type StepKind = LeafStep['kind'];
export type StepOf<K extends StepKind> = Extract<LeafStep, { kind: K }>;
export type DatabaseTarget = z.output<typeof databaseTargetSchema>;
export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type ZoneRef = z.output<typeof zoneRef>;
export type RecordTarget = z.output<typeof recordTarget>;
export type SqlProbe = z.output<typeof sqlProbe>;
export type HttpProbe = z.output<typeof httpProbe>;
