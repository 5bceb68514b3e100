import { z } from 'zod';
import type { CheckResult, StepOutcome } from '../../activities/contracts';
import type { Runbook } from '../../runbooks/schema';
import { duration, leafStepSchema } from '../../runbooks/schema-parts';
import { nothingToUndo, type StepKind } from '../step-kind';

export interface BackupsInput {
  bucket: string;
  region?: string;
  prefix: string;
  /** Already resolved by the workflow (step's maxAge, else the runbook's RPO). */
  maxAge: string;
  lockMode: 'COMPLIANCE' | 'GOVERNANCE';
  minRetention: string;
  /** The user-metadata key holding each backup's point in time; its upload time (LastModified) when absent. */
  takenAtMetadata?: string;
}

export interface BackupsVerifyActivities {
  checkBackups(input: BackupsInput): Promise<CheckResult[]>;
  verifyBackups(input: BackupsInput): Promise<StepOutcome>;
}

const schema = leafStepSchema('backups.verify', {
  bucket: z.string().min(3),
  region: z.string().min(1).optional(),
  prefix: z.string().default(''),
  /** Newest backup must be younger than this; defaults to the runbook's RPO objective. */
  maxAge: duration().optional(),
  lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
  /** The newest backup must stay locked at least this long from now. */
  minRetention: duration().default('1d'),
  /**
   * Where each backup's point in time is kept: the user-metadata key its backup job writes (ISO 8601). Without
   * it a backup's age is from its upload (LastModified), which a copy or a re-upload of an old backup renews.
   */
  takenAt: z
    .object({
      metadata: z
        .string()
        .regex(
          /^(?!x-amz-meta-)[a-z0-9][a-z0-9._-]*$/,
          'a user-metadata key as S3 returns it: lower case, without the x-amz-meta- prefix (e.g. taken-at)',
        ),
    })
    .strict()
    .optional(),
});

type BackupsStep = z.output<typeof schema>;

/** S3 Object Lock backups: versioning, lock mode and retention, age within the RPO, checksum recomputed. */
export const backupsVerify: StepKind<typeof schema, BackupsVerifyActivities> = {
  kind: 'backups.verify',
  description: 'checks the immutable backups: versioning, Object Lock mode and retention, age, checksum',
  mutates: false,
  schema,
  activityNames: ['checkBackups', 'verifyBackups'],
  crossCheck: () => [],
  preflight: (step, runbook) => [
    {
      key: `backups:${step.id}`,
      label: `backups ${step.id}`,
      items: [],
      run: (activities) => activities.checkBackups(backupsInput(runbook, step)),
    },
  ],
  async plan(step, context) {
    if (context.checkedByPreflight !== undefined)
      return {
        checkedBy: context.checkedByPreflight,
        note: `its checks are listed under the pre-flight ${context.checkedByPreflight}; the run also recomputes the newest backup's checksum`,
      };
    return { checks: await context.activities.checkBackups(backupsInput(context.runbook, step)) };
  },
  run: (step, context) => context.activities.verifyBackups(backupsInput(context.runbook, step)),
  undo: nothingToUndo,
  // Going back does not need the backups checked again: the failback is the way out of the incident.
  failback: () => [],
  examples: {
    valid: [
      { step: { id: 'backups', kind: 'backups.verify', bucket: 'ehr-backups', maxAge: '26h' } },
      {
        step: {
          id: 'backups',
          kind: 'backups.verify',
          bucket: 'ehr-backups',
          maxAge: '26h',
          takenAt: { metadata: 'taken-at' },
        },
      },
    ],
    invalid: [
      {
        step: { id: 'backups', kind: 'backups.verify', bucket: 'b' },
        path: '.bucket',
        message: /at least 3/,
      },
      {
        step: { id: 'backups', kind: 'backups.verify', bucket: 'ehr-backups', lockMode: 'STRICT' },
        path: '.lockMode',
        message: /"COMPLIANCE", "GOVERNANCE"/,
      },
      {
        step: {
          id: 'backups',
          kind: 'backups.verify',
          bucket: 'ehr-backups',
          takenAt: { metadata: 'x-amz-meta-taken-at' },
        },
        path: '.takenAt.metadata',
        message: /without the x-amz-meta- prefix/,
      },
    ],
  },
};

/** A backups step's input, its maximum age defaulting to the runbook's RPO: an older backup loses more data. */
export function backupsInput(runbook: Runbook, step: BackupsStep): BackupsInput {
  return {
    bucket: step.bucket,
    prefix: step.prefix,
    maxAge: step.maxAge ?? runbook.objectives.rpo,
    lockMode: step.lockMode,
    minRetention: step.minRetention,
    ...(step.region === undefined ? {} : { region: step.region }),
    ...(step.takenAt === undefined ? {} : { takenAtMetadata: step.takenAt.metadata }),
  };
}
