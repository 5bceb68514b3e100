import type { CheckResult } from '../activities/contracts';
import { stepKind, type KindActivities } from '../kinds/registry';
import type { PreflightRequest } from '../kinds/step-kind';
import type { Runbook } from '../runbooks/schema';
import { innermostMessage } from './innermost-message';
import { leafStepsOf } from './leaf-steps';

/**
 * The read-only checks pre-flight runs, derived from what the runbook's steps touch: each kind says what to
 * check (`preflight` in its definition). Requests with the same key are merged and run once; all run in
 * parallel. A check that cannot even run counts as a failed check, never as a pass.
 */
export async function runPreflightChecks(
  runbook: Runbook,
  activities: KindActivities,
): Promise<CheckResult[]> {
  const requests = new Map<string, PreflightRequest<KindActivities>>();
  for (const step of leafStepsOf(runbook)) {
    for (const request of stepKind(step.kind).preflight(step, runbook) as Array<
      PreflightRequest<KindActivities>
    >) {
      const earlier = requests.get(request.key);
      if (earlier === undefined) {
        requests.set(request.key, { ...request, items: [...request.items] });
        continue;
      }
      const seen = new Set(earlier.items.map((item) => JSON.stringify(item)));
      for (const item of request.items) if (!seen.has(JSON.stringify(item))) earlier.items.push(item);
    }
  }
  const results = await Promise.all(
    [...requests.values()].map(async ({ label, items, run }) => {
      try {
        return await run(activities, items);
      } catch (error) {
        return [{ check: `${label}: could not run`, ok: false, message: innermostMessage(error) }];
      }
    }),
  );
  return results.flat();
}
