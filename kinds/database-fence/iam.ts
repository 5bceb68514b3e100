import { providerIam } from '../../security/iam/provider-declarations';
import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A fence needs its provider's reads (pre-flight, plan) and its fence and unfence calls. */
export const databaseFenceIam: StepKindIam<'database.fence'> = {
  kind: 'database.fence',
  grants(step, runbook, arns) {
    const target = runbook.targets.databases[step.database];
    if (target === undefined) return [];
    const provider = providerIam(target);
    return [...provider.check(target, arns), ...provider.fence(target, arns)];
  },
};
