import { join } from 'node:path';
import type { ActivityPorts, KindActivitiesModule } from '../activities/ports';
import { STEP_KINDS, type KindActivities } from './registry';
import { kindFolder } from './step-kind';

/**
 * Every step kind's activities, loaded from the kind's folder (`kinds/<kind>/activities.ts`) by its name, so
 * adding a kind is its folder plus one line in the registry. Kinds without activities have no such file.
 */
export function createKindActivities(ports: ActivityPorts): KindActivities {
  const activities: Record<string, unknown> = {};
  for (const kind of STEP_KINDS) {
    if (kind.activityNames.length === 0) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by convention from the kind's folder.
    const module = require(join(__dirname, kindFolder(kind.kind), 'activities')) as KindActivitiesModule;
    Object.assign(activities, module.activitiesFromPorts(ports));
  }
  return activities as unknown as KindActivities;
}
