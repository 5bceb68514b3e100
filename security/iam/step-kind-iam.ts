import type { Runbook, StepOf, LeafStepKind } from '../../runbooks/schema';
import type { ArnContext, IamGrant } from './iam-grant';

/**
 * What a step kind declares about IAM: the grants a step of this kind needs for everything the worker does for
 * it — its pre-flight and plan reads, its effect, and its undo. A kind with no AWS calls returns `[]`.
 * Each kind declares its own in `kinds/<kind>/iam.ts`; `security/iam/declarations.ts` lists them.
 */
export interface StepKindIam<K extends LeafStepKind> {
  readonly kind: K;
  grants(step: StepOf<K>, runbook: Runbook, arns: ArnContext): IamGrant[];
}
