import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** A flags.set step needs no AWS permission: it calls the Unleash Admin API. */
export const flagsSetIam: StepKindIam<'flags.set'> = {
  kind: 'flags.set',
  grants: () => [],
};
