import { defineEvacuation } from '../define-evacuation';

/**
 * Leave us-east-1: the EHR database first (the portal reads patient records from it), then the patient portal,
 * after an approval that the EHR side is healthy in us-west-2.
 */
export default defineEvacuation({
  id: 'us-east-1',
  title: 'Evacuate us-east-1 to us-west-2',
  owner: 'platform-oncall',
  waves: [
    { id: 'databases', title: 'Clinical records', runbooks: ['ehr-db'] },
    {
      id: 'portal',
      title: 'Patient-facing services',
      runbooks: ['patient-portal-rds'],
      approval: { prompt: 'EHR is serving from us-west-2; start the portal?' },
    },
  ],
});
