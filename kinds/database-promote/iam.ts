import { providerIam } from '../../security/iam/provider-declarations';
import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A promotion needs its provider's reads (pre-flight, plan, the lag gate and polls) and its promotion call. */
export const databasePromoteIam: StepKindIam<'database.promote'> = {
  kind: 'database.promote',
  grants(step, runbook, arns) {
    const target = runbook.targets.databases[step.database];
    if (target === undefined) return [];
    const provider = providerIam(target);
    return [...provider.check(target, arns), ...provider.promote(target, arns, runbook.mode)];
  },
};
