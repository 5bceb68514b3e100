import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A preflight step needs no AWS permission: its reads are the checks of the other steps, declared by those steps. */
export const preflightIam: StepKindIam<'preflight'> = {
  kind: 'preflight',
  grants: () => [],
};
