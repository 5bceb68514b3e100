import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';

/** moto accepts any credentials; these are the conventional test ones, also written to `.sandbox/env`. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** Real AWS SDK v3 clients pointed at the local moto server. */
export interface SandboxAwsClients {
  rds: (region: string) => RDSClient;
  ec2: (region: string) => EC2Client;
  route53: Route53Client;
  s3: (region: string) => S3Client;
}

export function createSandboxAwsClients(endpoint: string): SandboxAwsClients {
  const common = { endpoint, credentials: MOTO_CREDENTIALS };
  return {
    rds: (region) => new RDSClient({ ...common, region }),
    ec2: (region) => new EC2Client({ ...common, region }),
    route53: new Route53Client({ ...common, region: 'us-east-1' }),
    s3: (region) => new S3Client({ ...common, region, forcePathStyle: true }),
  };
}
