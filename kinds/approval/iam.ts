import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A approval step needs no AWS permission: it waits for operators. */
export const approvalIam: StepKindIam<'approval'> = {
  kind: 'approval',
  grants: () => [],
};
