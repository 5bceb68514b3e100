import { ANY_RESOURCE, arn } from '../../security/iam/iam-grant';
import type { StepKindIam } from '../../security/iam/step-kind-iam';

/** Route 53 keeps record names lower-case and without the final dot in its condition keys. */
function normalizedName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/**
 * A DNS switch reads the zone and its records, swaps the step's records from the values the run read (a DELETE
 * of exactly those and a CREATE of the new ones, in one batch) or UPSERTs them when it reads them again (its undo
 * UPSERTs them back), waits for the change and asks Route 53 how it answers. The change is limited to the step's
 * record names, types and those three actions by Route 53's ChangeResourceRecordSets condition keys. A zone given by name is looked up by name, so
 * its id (and ARN) is not known from the runbook: the zone statements then name every hosted zone.
 */
export const dnsSwitchIam: StepKindIam<'dns.switch'> = {
  kind: 'dns.switch',
  grants(step, _runbook, arns) {
    const zone = arn.hostedZone(arns, step.zone.id?.replace(/^\/?hostedzone\//, '') ?? '*');
    return [
      ...(step.zone.id === undefined
        ? [
            {
              label: 'find-zone',
              actions: ['route53:ListHostedZonesByName'],
              resources: [ANY_RESOURCE],
              why: `finds the hosted zone ${step.zone.name ?? ''} by name (a list call takes no resource)`,
            },
          ]
        : []),
      {
        label: 'read-zone',
        actions: ['route53:GetHostedZone', 'route53:ListResourceRecordSets'],
        resources: [zone],
        why: 'reads the zone and the records’ current values (pre-flight, plan, undo data)',
      },
      {
        label: 'change',
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zone],
        condition: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
              ...new Set(step.records.map((r) => normalizedName(r.name))),
            ],
            'route53:ChangeResourceRecordSetsRecordTypes': [...new Set(step.records.map((r) => r.type))],
            'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE', 'UPSERT'],
          },
        },
        why: 'swaps (DELETE + CREATE) or UPSERTs only this step’s records (and UPSERTs them back on undo)',
      },
      {
        label: 'wait',
        actions: ['route53:GetChange'],
        resources: [arn.route53Change(arns)],
        why: 'waits until the change is INSYNC',
      },
      {
        label: 'answer',
        actions: ['route53:TestDNSAnswer'],
        resources: [ANY_RESOURCE],
        why: 'asks Route 53 what it answers for the records (TestDNSAnswer takes no resource)',
      },
    ];
  },
};
