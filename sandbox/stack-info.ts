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
  temporal: { address: string; namespace: string; uiUrl?: string; binary: string };
  moto: { endpoint: string };
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
  aws: {
    region: string;
    rds: { primary: { instanceId: string; region: string }; replica: { instanceId: string; region: string } };
    route53: {
      zoneName: string;
      zoneId: string;
      records: Array<{ name: string; type: 'A' | 'CNAME'; value: string }>;
    };
    s3: { bucket: string; region: string; prefix: string };
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
