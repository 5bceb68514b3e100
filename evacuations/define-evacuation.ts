import type { RunbookIssue } from '../runbooks/runbook-validation-error';
import { unknownFieldMessage } from '../common/unknown-fields';
import { toIssue } from '../runbooks/zod-issue-message';
import { EvacuationValidationError } from './evacuation-validation-error';
import { evacuationSchema, type Evacuation, type EvacuationInput } from './schema';

/**
 * Validates an evacuation and returns it as plain data with every default filled in. Throws an
 * `EvacuationValidationError` listing every problem with its path (`waves[1].runbooks[0]`): a runbook in two
 * waves, a dependency on a runbook that is in no wave or in a later wave, a dependency cycle, a concurrency of 0,
 * more than `MAX_EVACUATION_SERVICES` runbooks in all.
 * Whether each runbook exists is checked against the catalog when the evacuation is loaded.
 */
export function defineEvacuation(input: EvacuationInput): Evacuation {
  const label =
    typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : '(no id)';
  const parsed = evacuationSchema.safeParse(input, { reportInput: true, error: unknownFieldMessage });
  if (!parsed.success) {
    // The waves' structure is checked too where it can be read: every problem in one pass, not one class a run.
    const shaped = wavesAsWritten(input);
    throw new EvacuationValidationError(
      label,
      distinct([...parsed.error.issues.map(toIssue), ...(shaped ? crossCheck(shaped) : [])]),
      shaped,
    );
  }
  const evacuation: Evacuation = {
    id: parsed.data.id,
    title: parsed.data.title,
    ...(parsed.data.description === undefined ? {} : { description: parsed.data.description }),
    ...(parsed.data.owner === undefined ? {} : { owner: parsed.data.owner }),
    onServiceFailure: parsed.data.onServiceFailure,
    waves: parsed.data.waves.map((wave) => {
      const services = wave.runbooks.map((service) =>
        typeof service === 'string' ? { runbook: service, dependsOn: [] } : service,
      );
      return {
        id: wave.id,
        ...(wave.title === undefined ? {} : { title: wave.title }),
        concurrency: wave.concurrency ?? services.length,
        ...(wave.approval === undefined ? {} : { approval: wave.approval }),
        runbooks: services,
      };
    }),
  };
  const problems = crossCheck(evacuation);
  if (problems.length > 0) throw new EvacuationValidationError(label, problems);
  return evacuation;
}

/**
 * The waves of an input the schema refused, by their ids, runbooks and dependencies (other fields may be wrong),
 * so the structural checks still run; undefined when any wave's ids, runbooks or dependencies cannot be read.
 */
function wavesAsWritten(input: unknown): Evacuation | undefined {
  const waves = (input as { waves?: unknown } | undefined)?.waves;
  if (!Array.isArray(waves)) return undefined;
  const read: Evacuation['waves'] = [];
  for (const wave of waves) {
    const { id, runbooks } = (wave ?? {}) as { id?: unknown; runbooks?: unknown };
    if (typeof id !== 'string' || !Array.isArray(runbooks)) return undefined;
    const services: Evacuation['waves'][number]['runbooks'] = [];
    for (const service of runbooks) {
      if (typeof service === 'string') services.push({ runbook: service, dependsOn: [] });
      else {
        const { runbook, dependsOn } = (service ?? {}) as { runbook?: unknown; dependsOn?: unknown };
        if (typeof runbook !== 'string') return undefined;
        const named: unknown = dependsOn ?? [];
        // An entry that is no string would shift the others' paths (dependsOn[d]): not read at all then.
        if (!Array.isArray(named) || !named.every((d): d is string => typeof d === 'string'))
          return undefined;
        services.push({ runbook, dependsOn: named });
      }
    }
    read.push({ id, concurrency: services.length, runbooks: services });
  }
  return { id: '', title: '', onServiceFailure: 'pause-service', waves: read };
}

function distinct(issues: RunbookIssue[]): RunbookIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The most services one evacuation runs. Each service's start, progress reads and result go into the
 * evacuation's Temporal history, which the server ends past 50 MB: the fleet benchmark's services (10 databases
 * and 100 records each) cost ~95 KB of it apiece at 20 services, and each start also carries the whole plan, so
 * 200 come to ~19 MB and 400 would reach the limit mid-evacuation. AWS ARC Region switch allows 100 per plan.
 */
export const MAX_EVACUATION_SERVICES = 200;

function crossCheck(evacuation: Evacuation): RunbookIssue[] {
  const issues: RunbookIssue[] = [];
  const services = evacuation.waves.reduce((n, wave) => n + wave.runbooks.length, 0);
  if (services > MAX_EVACUATION_SERVICES)
    issues.push({
      path: 'waves',
      message: `${services} runbooks in all waves; an evacuation runs at most ${MAX_EVACUATION_SERVICES} (each one's start, progress and result go into the evacuation's Temporal history, which the server ends past 50 MB): split it into several evacuations`,
    });
  const waveIds = new Map<string, number>();
  const placed = new Map<string, { wave: number; index: number }>();
  evacuation.waves.forEach((wave, w) => {
    const earlier = waveIds.get(wave.id);
    if (earlier !== undefined)
      issues.push({ path: `waves[${w}].id`, message: `"${wave.id}" is already the id of waves[${earlier}]` });
    waveIds.set(wave.id, w);
    wave.runbooks.forEach((service, s) => {
      const where = placed.get(service.runbook);
      if (where !== undefined) {
        issues.push({
          path: `waves[${w}].runbooks[${s}]`,
          message: `runbook "${service.runbook}" is already in waves[${where.wave}] (${evacuation.waves[where.wave]?.id}); a runbook runs once per evacuation: keep it in one wave`,
        });
      } else placed.set(service.runbook, { wave: w, index: s });
    });
  });
  evacuation.waves.forEach((wave, w) =>
    wave.runbooks.forEach((service, s) =>
      service.dependsOn.forEach((dependency, d) => {
        const path = `waves[${w}].runbooks[${s}].dependsOn[${d}]`;
        const target = placed.get(dependency);
        if (target === undefined) {
          issues.push({
            path,
            message: `"${dependency}" is in no wave of this evacuation; add it to a wave or drop the dependency`,
          });
        } else if (target.wave > w) {
          issues.push({
            path,
            message: `"${dependency}" runs in a later wave (waves[${target.wave}]); a service may depend only on its own or earlier waves`,
          });
        } else if (dependency === service.runbook) {
          issues.push({ path, message: `"${dependency}" cannot depend on itself` });
        }
      }),
    ),
  );
  issues.push(...cycles(evacuation));
  return issues;
}

/** Dependency cycles (within a wave), each reported once at the first service of the cycle. */
function cycles(evacuation: Evacuation): RunbookIssue[] {
  const needs = new Map<string, string[]>();
  const pathOf = new Map<string, string>();
  evacuation.waves.forEach((wave, w) =>
    wave.runbooks.forEach((service, s) => {
      needs.set(service.runbook, service.dependsOn);
      pathOf.set(service.runbook, `waves[${w}].runbooks[${s}].dependsOn`);
    }),
  );
  const issues: RunbookIssue[] = [];
  const done = new Set<string>();
  const reported = new Set<string>();
  const visit = (runbook: string, trail: string[]): void => {
    if (done.has(runbook)) return;
    const at = trail.indexOf(runbook);
    if (at >= 0) {
      const cycle = trail.slice(at);
      const key = [...cycle].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        issues.push({
          path: pathOf.get(cycle[0] as string) ?? 'waves',
          message: `dependency cycle: ${[...cycle, runbook].join(' → ')}; no service of it could ever start — remove one dependency`,
        });
      }
      return;
    }
    for (const next of needs.get(runbook) ?? [])
      if (needs.has(next) && next !== runbook) visit(next, [...trail, runbook]);
    // Every path from here is explored: visiting it again finds nothing new (without this, services listed before
    // the ones they depend on were explored once per path to them, exponentially many).
    done.add(runbook);
  };
  for (const runbook of needs.keys()) visit(runbook, []);
  return issues;
}
