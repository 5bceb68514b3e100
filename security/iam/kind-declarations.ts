import { approvalIam } from '../../kinds/approval/iam';
import { backupsVerifyIam } from '../../kinds/backups-verify/iam';
import { databaseFenceIam } from '../../kinds/database-fence/iam';
import { databasePromoteIam } from '../../kinds/database-promote/iam';
import { dnsSwitchIam } from '../../kinds/dns-switch/iam';
import { flagsSetIam } from '../../kinds/flags-set/iam';
import { preflightIam } from '../../kinds/preflight/iam';
import { probeIam } from '../../kinds/probe/iam';
import { waitIam } from '../../kinds/wait/iam';
import type { StepKindName } from '../../kinds/registry';
import type { LeafStep } from '../../runbooks/schema';
import type { StepKindIam } from './step-kind-iam';

/**
 * Every step kind's IAM declaration. Keyed by the registry's kind names, so a kind added to `STEP_KINDS` without
 * its `iam.ts` does not compile.
 */
export const KIND_IAM: { [K in StepKindName]: StepKindIam<K> } = {
  preflight: preflightIam,
  'database.fence': databaseFenceIam,
  'database.promote': databasePromoteIam,
  'dns.switch': dnsSwitchIam,
  'flags.set': flagsSetIam,
  'backups.verify': backupsVerifyIam,
  probe: probeIam,
  wait: waitIam,
  approval: approvalIam,
};

export function kindIam(step: LeafStep): StepKindIam<LeafStep['kind']> {
  return KIND_IAM[step.kind] as unknown as StepKindIam<LeafStep['kind']>;
}
