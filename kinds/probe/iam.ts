import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A probe step needs no AWS permission: it connects to the service over HTTP, TCP or SQL. */
export const probeIam: StepKindIam<'probe'> = {
  kind: 'probe',
  grants: () => [],
};
