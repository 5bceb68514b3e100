export { createDrillActivities, type DrillActivityDeps } from './drill-activities';
export { createCanaryAdapter, type CanaryAdapterOptions } from './canary-adapter';
export type { CanaryPort, CanaryWriter, CanaryReadout, CanaryReadQuery, CanaryRow } from './canary-port';
export { computeDataLoss } from './measure-data-loss';
export { workerClock, type DrillClock } from './drill-clock';
