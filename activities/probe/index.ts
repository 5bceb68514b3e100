export { createProbeActivities, type ProbeActivities, type ProbeActivityDeps } from './probe-activities';
