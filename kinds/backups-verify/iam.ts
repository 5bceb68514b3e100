import { arn } from '../../security/iam/iam-grant';
import type { StepKindIam } from '../../security/iam/step-kind-iam';

/**
 * Verifying backups reads the bucket's versioning and Object Lock settings, lists the backups under the prefix,
 * and reads each one's head and body. HeadObject is authorised as s3:GetObject; S3 returns an object's lock mode
 * and retain-until date only to a caller that also has s3:GetObjectRetention.
 */
export const backupsVerifyIam: StepKindIam<'backups.verify'> = {
  kind: 'backups.verify',
  grants(step, _runbook, arns) {
    return [
      {
        label: 'bucket',
        actions: ['s3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration'],
        resources: [arn.s3Bucket(arns, step.bucket)],
        why: 'checks versioning and the Object Lock mode of the bucket',
      },
      {
        label: 'list',
        actions: ['s3:ListBucket'],
        resources: [arn.s3Bucket(arns, step.bucket)],
        ...(step.prefix === '' ? {} : { condition: { StringLike: { 's3:prefix': [`${step.prefix}*`] } } }),
        why: `lists the backups${step.prefix === '' ? '' : ` under ${step.prefix}`}`,
      },
      {
        label: 'objects',
        actions: ['s3:GetObject', 's3:GetObjectRetention'],
        resources: [arn.s3Objects(arns, step.bucket, step.prefix)],
        why: 'reads each backup’s head (age, checksum, lock mode and retain-until date) and body (checksum)',
      },
    ];
  },
};
