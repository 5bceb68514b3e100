import type { LagSeries } from './strict-aws/lag-metrics';

/**
 * What `sandbox up` writes to `.sandbox/stack.json`: where every local server listens and what was seeded.
 * Tests and the demo read it; nothing else should guess ports.
 */
export interface StackInfo {
  /** Absolute path of the git-ignored folder holding data, logs and pid files (`<repo>/.sandbox`). */
  dir: string;
  /** Absolute path of the drctl config file the sandbox wrote for this stack. */
  configFile: string;
  /** Absolute path of a shell env file (`export K=V` lines) with the same settings. */
  envFile: string;
  temporal: { address: string; httpAddress: string; namespace: string; uiUrl?: string; binary: string };
  /**
   * AWS, as drctl and the tests reach it. `endpoint` is the strict AWS layer in front of moto: it refuses what
   * AWS refuses and emulates what moto lacks, so every test and the demo run against it. `rawEndpoint` is moto
   * itself, for seeding and for tests that must read behind the layer (e.g. while a region is down);
   * `controlUrl` is the layer's control API (`strictAwsControl(controlUrl)`).
   */
  moto: { endpoint: string; rawEndpoint: string; controlUrl: string };
  postgres: {
    /** Both members listen on the same port, each on its own loopback address. */
    port: number;
    primaryHost: string;
    replicaHost: string;
    database: string;
    /** Superuser connection URLs, for tests and the sandbox itself. */
    primaryUrl: string;
    replicaUrl: string;
    /** The application role's URL template host; probes replace the host with what DNS answers. */
    appUrl: string;
  };
  unleash: {
    url: string;
    adminToken: string;
    clientToken: string;
    project: string;
    environment: string;
    flags: string[];
  };
  /**
   * The TLS side, beside the plain addresses above: an mTLS proxy in front of the Temporal dev server, and the
   * PostgreSQL pair with server certificates, all from a CA the sandbox generated in `.sandbox/tls`.
   */
  tls: {
    caFile: string;
    /** The client certificate and key drctl presents to the Temporal proxy. */
    clientCertFile: string;
    clientKeyFile: string;
    /** The proxy's address, and the name its certificate holds (TEMPORAL_TLS_SERVER_NAME). */
    temporal: { address: string; httpAddress: string; serverName: string };
    /** The `postgres` URLs with `sslmode=verify-full&sslrootcert=<caFile>`. */
    postgres: { primaryUrl: string; replicaUrl: string; appUrl: string };
    /** A drctl config file that uses all of it (`DRCTL_CONFIG=… drctl …`). */
    configFile: string;
  };
  aws: {
    region: string;
    rds: {
      primary: { instanceId: string; region: string };
      replica: { instanceId: string; region: string };
      /** The security group with no inbound rules the RDS fence swaps in (`fenceSecurityGroup` of a runbook). */
      fenceSecurityGroup: { name: string; id: string };
    };
    route53: {
      zoneName: string;
      zoneId: string;
      records: Array<{ name: string; type: 'A' | 'CNAME'; value: string }>;
    };
    s3: { bucket: string; region: string; prefix: string };
    /** An Aurora PostgreSQL global database: writer cluster in us-east-1, secondary with one reader in us-west-2. */
    aurora: {
      globalClusterId: string;
      engineVersion: string;
      primary: { clusterId: string; region: string; arn: string; endpoint: string; writerInstanceId: string };
      secondary: {
        clusterId: string;
        region: string;
        arn: string;
        endpoint: string;
        readerInstanceId: string;
      };
    };
    /** The lag metrics the strict layer publishes to moto's CloudWatch (AWS/RDS), with their seeded values. */
    lagMetrics: Array<{ series: LagSeries; value: number }>;
  };
  /** Encrypted history and secrets: see sandbox/security-seed.ts. */
  security: {
    /** The keyring (0600) that encrypts the sandbox's Temporal payloads. */
    keyringFile: string;
    /** A KMS key in moto for envelope encryption (moto forgets it on `reset`; the tests use it). */
    kms: { alias: string; keyArn: string };
    /** Secrets Manager names of each connection secret and token. */
    secrets: {
      postgres: Record<string, string>;
      unleashAdminToken: string;
      unleashClientToken: string;
      codecServerToken: string;
    };
    /** `drctl codec-server`, which the Web UI decodes through; `token` is its bearer token. */
    codecServer: { url: string; token: string; allowedOrigins: string[] };
  };
}
