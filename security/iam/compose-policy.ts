import { leafSteps } from '../../runbooks/cross-check';
import type { Runbook } from '../../runbooks/schema';
import type { ArnContext, IamCondition, IamGrant } from './iam-grant';
import { kindIam } from './kind-declarations';
import { workerGrants, type WorkerResources } from './worker-grants';

/** An IAM policy document, as `aws iam put-user-policy` and `put-role-policy` take it. */
export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

export interface IamStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: IamCondition;
}

/** The grants of one step (or of the worker itself, `step: null`), with the Sid each became. */
export interface GrantGroup {
  step: { id: string; kind: string } | null;
  grants: Array<IamGrant & { sid: string }>;
}

export interface RunbookIamPolicy {
  runbook: string;
  policy: IamPolicyDocument;
  groups: GrantGroup[];
}

export interface IamPolicyOptions extends Partial<ArnContext> {
  worker?: WorkerResources;
}

/** `fence-primary` + `fence` → `FencePrimaryFence`; Sids allow only letters and digits. */
function pascal(...words: string[]): string {
  return words
    .flatMap((w) => w.split(/[^A-Za-z0-9]+/))
    .filter((w) => w.length > 0)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** Joins a step's grants that share label, resources and condition; sorts and de-duplicates actions. */
function mergeGrants(grants: IamGrant[]): IamGrant[] {
  const merged = new Map<string, IamGrant>();
  for (const grant of grants) {
    const key = JSON.stringify([grant.label, [...grant.resources].sort(), grant.condition ?? null]);
    const found = merged.get(key);
    if (found === undefined) {
      merged.set(key, {
        ...grant,
        actions: [...grant.actions],
        resources: [...new Set(grant.resources)].sort(),
      });
    } else {
      found.actions.push(...grant.actions);
    }
  }
  return [...merged.values()].map((g) => ({ ...g, actions: [...new Set(g.actions)].sort() }));
}

/**
 * The least-privilege policy a worker needs to run `runbook`: one statement per step and purpose, its Sid the
 * step id and the purpose (`PromoteReplicaPromote`), built from each kind's and provider's IAM declaration,
 * plus the worker's own statements (codec key, secrets, evidence). Pure: no AWS call, no configuration read.
 */
export function composeIamPolicy(runbook: Runbook, options: IamPolicyOptions = {}): RunbookIamPolicy {
  const arns: ArnContext = { partition: options.partition ?? 'aws', account: options.account ?? '*' };
  const used = new Set<string>();
  const uniqueSid = (base: string): string => {
    let sid = base;
    for (let n = 2; used.has(sid); n++) sid = `${base}${n}`;
    used.add(sid);
    return sid;
  };
  const groups: GrantGroup[] = [];
  for (const { step } of leafSteps(runbook)) {
    const grants = mergeGrants(kindIam(step).grants(step, runbook, arns));
    if (grants.length === 0) continue;
    groups.push({
      step: { id: step.id, kind: step.kind },
      grants: grants.map((g) => ({ ...g, sid: uniqueSid(pascal(step.id, g.label)) })),
    });
  }
  const worker = mergeGrants(workerGrants(options.worker ?? {}, arns));
  if (worker.length > 0) {
    groups.push({
      step: null,
      grants: worker.map((g) => ({ ...g, sid: uniqueSid(pascal('worker', g.label)) })),
    });
  }
  const Statement = groups.flatMap((group) =>
    group.grants.map((g): IamStatement => ({
      Sid: g.sid,
      Effect: 'Allow',
      Action: g.actions,
      Resource: g.resources,
      ...(g.condition === undefined ? {} : { Condition: g.condition }),
    })),
  );
  return { runbook: runbook.id, policy: { Version: '2012-10-17', Statement }, groups };
}
