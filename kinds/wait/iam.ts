import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A wait step needs no AWS permission: it sleeps on a durable timer. */
export const waitIam: StepKindIam<'wait'> = {
  kind: 'wait',
  grants: () => [],
};
