import type { DrillActivities } from './drill-contracts';
import { createEvacuationActivities } from '../evacuations/evacuation-activities';
import type { EvacuationActivities } from '../evacuations/evacuation-types';
import type { AuthActivities } from './auth/auth-contracts';
import { createAuthActivities } from './auth/auth-activities';
import { createDrillActivities } from './drill/drill-activities';
import { resolveRecord } from './dns/resolve-record';
import { createEvidenceActivities } from './evidence/evidence-activities';
import { createRunRecordActivities } from './runs/recorded-failover';
import { createHolderActivities } from './runs/run-holder';
import type { HolderActivities } from './runs/holder-contracts';
import { createScheduleRunActivities } from './runs/schedule-run';
import type { ScheduleRunActivities } from './runs/schedule-run-contracts';
import { createRunStartActivities } from './runs/run-start';
import type { RunStartActivities } from './runs/run-start-contracts';
import { createStartUseActivities } from './runs/start-use';
import type { StartUseActivities } from './runs/start-use-contracts';
import type { RunRecordActivities } from './runs/run-record-contracts';
import type { EvidenceActivities } from './evidence/evidence-contracts';
import type { ActivityPorts } from './ports';
import { createKindActivities } from '../kinds/activities';
import type { KindActivities } from '../kinds/registry';

export type { ActivityPorts } from './ports';

/** The full activity surface the workflows call, built from its ports. */
export function createActivities(
  ports: ActivityPorts,
): KindActivities &
  DrillActivities &
  AuthActivities &
  EvidenceActivities &
  EvacuationActivities &
  RunRecordActivities &
  HolderActivities &
  ScheduleRunActivities &
  StartUseActivities &
  RunStartActivities {
  return {
    ...createKindActivities(ports),
    ...createEvacuationActivities(ports.temporal),
    ...createDrillActivities({
      canary: ports.canary,
      postgres: ports.postgres,
      rds: ports.rds,
      resolveHost: (zone, record) => resolveRecord(ports.route53, zone, record),
      ...(ports.drillInjections === undefined ? {} : { injections: ports.drillInjections }),
    }),
    ...createAuthActivities(ports.access),
    ...createEvidenceActivities(ports.evidence),
    ...createRunRecordActivities(ports.runs),
    ...createHolderActivities(ports.runs),
    ...createScheduleRunActivities(ports.runs),
    ...createStartUseActivities(ports.runs),
    ...createRunStartActivities(ports.runs),
  };
}
