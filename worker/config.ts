import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AWS_API_LIMITS, type AwsPacingLimits } from '../activities/aws-pacing/api-limits';
// Not key-file.ts: it loads the signature library, which commands that only read configuration do not need.
import { defaultKeyFile } from '../auth/io/default-key-file';
import { isKmsKeyArn, isKmsKeyId } from '../common/kms-key-id';
import { runbookMemo } from '../runbooks/validation-memo';

/**
 * A secret given as its value (local use: env or a 0600 config file), or the name of an AWS Secrets Manager
 * secret that the process reads when it needs it (`{ "secret": "drctl/ehr-primary" }`).
 */
export type SecretSource = string | { secret: string };

/**
 * drctl's configuration: built once from defaults, then a config file, then the environment, then explicit
 * overrides. Runbooks name connections and tokens; their secrets live only here.
 */
export interface DrctlConfig {
  /** The config file the settings were read from, if any (for messages). */
  source?: string;
  temporal: {
    /** host:port of the Temporal frontend. Env TEMPORAL_ADDRESS. Default 127.0.0.1:7233. */
    address: string;
    /**
     * host:port of the frontend's HTTP API (a server's `frontend.httpPort`, 7243 by default), with the same TLS as
     * `address`. When set, `drctl status` of a failover or failback reads it there: plain HTTP, without loading
     * the gRPC client. Env TEMPORAL_HTTP_ADDRESS; an empty value turns it off. Default: unset (everything over gRPC).
     */
    httpAddress?: string;
    /** Env TEMPORAL_NAMESPACE. Default `default`. */
    namespace: string;
    /** Env DRCTL_TASK_QUEUE. Default `drctl`. */
    taskQueue: string;
    /** Env TEMPORAL_API_KEY; turns TLS on. */
    apiKey?: string;
    /** Env TEMPORAL_TLS=true, or implied by an API key or any of the TLS settings below. */
    tls: boolean;
    /**
     * Activities one worker runs at once. Most of drctl's activities wait (for a token, a change, a promotion), so
     * an evacuation of hundreds of databases needs far more than the SDK's default of 100. Default 1,000.
     */
    maxConcurrentActivities: number;
    /**
     * mTLS client certificate (PEM): a file, or the PEM itself. Env TEMPORAL_TLS_CLIENT_CERT_PATH or
     * TEMPORAL_TLS_CERT / TEMPORAL_TLS_CLIENT_CERT_DATA or TEMPORAL_TLS_CERT_DATA (the `temporal` CLI's names).
     */
    tlsCertPath?: string;
    tlsCertData?: string;
    /** The client certificate's private key (PEM). Env TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_KEY / ..._DATA. */
    tlsKeyPath?: string;
    tlsKeyData?: string;
    /** CA of the server's certificate (PEM). Default: the system's CAs. Env TEMPORAL_TLS_SERVER_CA_CERT_PATH or TEMPORAL_TLS_CA / ..._DATA. */
    tlsCaPath?: string;
    tlsCaData?: string;
    /** Name checked in the server's certificate instead of the address's host. Env TEMPORAL_TLS_SERVER_NAME. */
    tlsServerName?: string;
    /** Env TEMPORAL_TLS_DISABLE_HOST_VERIFICATION. Refused when true: the SDK always checks; set tlsServerName. */
    tlsDisableHostVerification?: boolean;
  };
  aws: {
    /** Default region when a runbook names none. Env AWS_REGION / AWS_DEFAULT_REGION. Default us-east-1. */
    region: string;
    /** Endpoint override for local emulators. Env AWS_ENDPOINT_URL. Credentials come from the default chain. */
    endpoint?: string;
    /**
     * The account's API rate limits the worker paces its calls to (token buckets shared by every run, split among
     * the workers of the task queue). Default: AWS's published limits (Route 53 burst 50, 10/s; RDS burst 300,
     * 12/s per region; CloudWatch GetMetricData 50/s per region; EC2 reads burst 100, 20/s per region). Config
     * file only, e.g.
     * `"aws": {"pacing": {"route53": {"burst": 50, "perSecond": 5}}}`.
     */
    pacing: AwsPacingLimits;
  };
  unleash: {
    /** Base URL of the Unleash server, e.g. http://127.0.0.1:4242. Env UNLEASH_URL. */
    url?: string;
    /**
     * Admin API token, used to change flags. Env UNLEASH_ADMIN_TOKEN, or the name of a Secrets Manager secret
     * holding it: DRCTL_UNLEASH_ADMIN_TOKEN_SECRET.
     */
    adminToken?: SecretSource;
    /**
     * Backend (client) API token, used to confirm what clients see. Env UNLEASH_CLIENT_TOKEN, or a secret's
     * name: DRCTL_UNLEASH_CLIENT_TOKEN_SECRET.
     */
    clientToken?: SecretSource;
  };
  postgres: {
    /**
     * Connection name → connection URL, or `{ secret }` naming a Secrets Manager secret that holds the URL (or
     * RDS-style JSON: host, port, username, password, dbname). Env DRCTL_PG_<NAME>_URL or DRCTL_PG_<NAME>_SECRET
     * (name upper-cased, dashes as underscores). TLS as in libpq: `?sslmode=verify-full&sslrootcert=/path/ca.pem`
     * (recommended), `sslcert`, `sslkey`.
     */
    connections: Record<string, SecretSource>;
  };
  secrets: {
    /** How long a value read from Secrets Manager is reused before it is read again. Env DRCTL_SECRETS_CACHE_MS. Default 60000. */
    cacheTtlMs: number;
  };
  codec: {
    /**
     * Encrypt every payload (inputs, results, memo, queries, updates, failure messages) before it reaches
     * Temporal. Env DRCTL_CODEC=on|off. Default off. Worker, CLI and codec server must agree.
     */
    enabled: boolean;
    /** KMS key (id, ARN or alias/…) that makes new data keys. Env DRCTL_CODEC_KMS_KEY_ID. Wins over the keyring for new payloads. */
    kmsKeyId?: string;
    /**
     * The deployment's other KMS keys, by key ARN: those `kmsKeyId` named before a rotation (and one it is about to
     * name). A start statement a run under one of them used is seen as used; a run under a KMS key neither listed
     * here nor used by this worker counts as no drctl run. Env DRCTL_CODEC_KNOWN_KMS_KEY_ARNS, comma-separated
     * (blank leaves the file's list). Default none.
     */
    knownKmsKeyArns: string[];
    /** Local keyring file (`{"current": id, "keys": {id: base64}}`, mode 0600). Env DRCTL_CODEC_KEYRING_FILE. */
    keyringFile?: string;
    /** How long one data key encrypts. Env DRCTL_CODEC_DATA_KEY_MAX_AGE_MS. Default 300000. */
    dataKeyMaxAgeMs: number;
    /** How many payloads one data key encrypts at most. Default 10000. */
    dataKeyMaxUses: number;
  };
  codecServer: {
    /** host:port `drctl codec-server` listens on. Env DRCTL_CODEC_SERVER_LISTEN. Default 127.0.0.1:8088. */
    listen: string;
    /** Browser origins allowed to call it (the Web UI's). Env DRCTL_CODEC_SERVER_ORIGINS, comma-separated. Default none. */
    allowedOrigins: string[];
    /** The bearer token every request must carry. Env DRCTL_CODEC_SERVER_TOKEN or DRCTL_CODEC_SERVER_TOKEN_SECRET. */
    token?: SecretSource;
  };
  operator: {
    /**
     * The operator's signing key (the CLI side). Env DRCTL_KEY_FILE, else $XDG_CONFIG_HOME/drctl/operator-key.json
     * (~/.config/drctl/operator-key.json). Who acts is the key's owner in the worker's access policy.
     */
    keyFile: string;
  };
  access: {
    /** The worker's access policy file (JSON): operators, groups, permissions, break-glass keys. Env DRCTL_POLICY_FILE. */
    policyFile?: string;
    /** The worker's reviewed runbook folders; runs start only from here, by id and hash. Env DRCTL_CATALOG_DIRS (colon-separated). Default: the bundled examples. */
    catalogDirs: string[];
    /** The worker's reviewed evacuation folders, after the bundled examples. Env DRCTL_EVACUATIONS_DIR (colon-separated). */
    evacuationDirs?: string[];
  };
  drill: {
    /** Named failure-injection commands (argv, no shell) a drill may ask for with `--inject <name>`. Config file only. */
    injections: Record<string, string[]>;
  };
  evidence: EvidenceSettings;
}

/** Where evidence bundles go and how they are signed (README "Evidence"). */
export interface EvidenceSettings {
  /** S3 bucket with Object Lock (COMPLIANCE). Env DRCTL_EVIDENCE_BUCKET. Unset: bundles wait in the ledger. */
  bucket?: string;
  /** The bucket's region. Env DRCTL_EVIDENCE_REGION. Default: aws.region. */
  region?: string;
  /**
   * The KMS key S3 encrypts every evidence object under (SSE-KMS): id, alias or ARN, in the bucket's Region.
   * Env DRCTL_EVIDENCE_KMS_KEY_ID. Unset: the bucket's default encryption. Reading the bundles then needs
   * kms:Decrypt on this key as well as s3:GetObject, and each use is logged by KMS.
   */
  kmsKeyId?: string;
  /** Key prefix inside the bucket; each namespace's chain sits below it. Env DRCTL_EVIDENCE_PREFIX. Default `drctl-evidence/`. */
  prefix: string;
  /** PEM file of the Ed25519 private key that signs manifests (the worker's). Env DRCTL_EVIDENCE_SIGNING_KEY_FILE. */
  signingKeyFile?: string;
  /**
   * PEM files of the public keys `drctl evidence verify` trusts (old keys stay listed after a rotation).
   * Env DRCTL_EVIDENCE_PUBLIC_KEY_FILES, comma-separated. Default: the public half of the signing key.
   */
  publicKeyFiles: string[];
  /** Years every evidence object stays locked; never fewer than 6 (45 CFR 164.316(b)(2)). Env DRCTL_EVIDENCE_RETENTION_YEARS. */
  retentionYears: number;
  /** Task queue of the evidence ledger workflow; every worker polls it. Env DRCTL_EVIDENCE_TASK_QUEUE. Default `drctl-evidence`. */
  taskQueue: string;
}

const MINIMUM_EVIDENCE_RETENTION_YEARS = 6;

function evidenceFromEnv(env: NodeJS.ProcessEnv): Partial<EvidenceSettings> {
  const years = env.DRCTL_EVIDENCE_RETENTION_YEARS;
  return {
    bucket: env.DRCTL_EVIDENCE_BUCKET,
    region: env.DRCTL_EVIDENCE_REGION,
    kmsKeyId: env.DRCTL_EVIDENCE_KMS_KEY_ID,
    prefix: env.DRCTL_EVIDENCE_PREFIX,
    signingKeyFile: env.DRCTL_EVIDENCE_SIGNING_KEY_FILE,
    publicKeyFiles: listFromEnv(env.DRCTL_EVIDENCE_PUBLIC_KEY_FILES),
    retentionYears: years === undefined ? undefined : Number(years),
    taskQueue: env.DRCTL_EVIDENCE_TASK_QUEUE,
  };
}

function checkEvidence(settings: EvidenceSettings): void {
  if (settings.kmsKeyId !== undefined && !isKmsKeyId(settings.kmsKeyId))
    throw new ConfigError(
      `evidence.kmsKeyId (DRCTL_EVIDENCE_KMS_KEY_ID) is "${settings.kmsKeyId}": give a KMS key id, alias (alias/name) or key ARN`,
    );
  if (
    !Number.isInteger(settings.retentionYears) ||
    settings.retentionYears < MINIMUM_EVIDENCE_RETENTION_YEARS
  ) {
    throw new ConfigError(
      `evidence.retentionYears (DRCTL_EVIDENCE_RETENTION_YEARS) is ${String(settings.retentionYears)}: it must be a whole number of years, at least ${MINIMUM_EVIDENCE_RETENTION_YEARS} (45 CFR 164.316(b)(2))`,
    );
  }
}

export type ConfigOverrides = {
  [K in keyof DrctlConfig]?: Partial<DrctlConfig[K]>;
};

export class ConfigError extends Error {
  readonly code = 'ConfigInvalid';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const DEFAULT_CONFIG_FILE = 'drctl.config.json';
const BUNDLED_RUNBOOKS_DIR = join(__dirname, '..', 'runbooks', 'examples');

/** Loads the configuration. `env` and `cwd` are parameters so tests never touch the real process. */
export function loadConfig(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; file?: string; overrides?: ConfigOverrides } = {},
): DrctlConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const config: DrctlConfig = {
    temporal: {
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'drctl',
      tls: false,
      maxConcurrentActivities: 1_000,
    },
    aws: { region: 'us-east-1', pacing: structuredClone(AWS_API_LIMITS) },
    unleash: {},
    postgres: { connections: {} },
    secrets: { cacheTtlMs: 60_000 },
    codec: { enabled: false, knownKmsKeyArns: [], dataKeyMaxAgeMs: 300_000, dataKeyMaxUses: 10_000 },
    codecServer: { listen: '127.0.0.1:8088', allowedOrigins: [] },
    operator: { keyFile: defaultKeyFile(env) },
    access: { catalogDirs: [BUNDLED_RUNBOOKS_DIR] },
    drill: { injections: {} },
    evidence: {
      prefix: 'drctl-evidence/',
      publicKeyFiles: [],
      retentionYears: 6,
      taskQueue: 'drctl-evidence',
    },
  };

  const file =
    options.file ??
    env.DRCTL_CONFIG ??
    (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  if (file !== undefined) {
    config.source = resolve(cwd, file);
    mergeInto(config, readConfigFile(config.source));
  }

  mergeInto(config, {
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      httpAddress: env.TEMPORAL_HTTP_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.DRCTL_TASK_QUEUE,
      apiKey: env.TEMPORAL_API_KEY,
      tls:
        env.TEMPORAL_TLS === undefined ? undefined : env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS === '1',
      ...temporalTlsFromEnv(env),
    },
    aws: { region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION, endpoint: env.AWS_ENDPOINT_URL },
    unleash: {
      url: env.UNLEASH_URL,
      adminToken: secretFromEnv(env.UNLEASH_ADMIN_TOKEN, env.DRCTL_UNLEASH_ADMIN_TOKEN_SECRET),
      clientToken: secretFromEnv(env.UNLEASH_CLIENT_TOKEN, env.DRCTL_UNLEASH_CLIENT_TOKEN_SECRET),
    },
    secrets: { cacheTtlMs: numberFromEnv(env, 'DRCTL_SECRETS_CACHE_MS') },
    codec: {
      enabled: switchFromEnv(env, 'DRCTL_CODEC'),
      kmsKeyId: env.DRCTL_CODEC_KMS_KEY_ID,
      // Blank is unset: an empty variable must not drop the file's keys (and with them the replay check under them).
      knownKmsKeyArns: listFromEnv(env.DRCTL_CODEC_KNOWN_KMS_KEY_ARNS?.trim() || undefined),
      keyringFile: env.DRCTL_CODEC_KEYRING_FILE,
      dataKeyMaxAgeMs: numberFromEnv(env, 'DRCTL_CODEC_DATA_KEY_MAX_AGE_MS'),
    },
    codecServer: {
      listen: env.DRCTL_CODEC_SERVER_LISTEN,
      allowedOrigins: listFromEnv(env.DRCTL_CODEC_SERVER_ORIGINS),
      token: secretFromEnv(env.DRCTL_CODEC_SERVER_TOKEN, env.DRCTL_CODEC_SERVER_TOKEN_SECRET),
    },
    operator: { keyFile: env.DRCTL_KEY_FILE },
    access: {
      policyFile: env.DRCTL_POLICY_FILE,
      catalogDirs: env.DRCTL_CATALOG_DIRS?.split(':').filter(Boolean),
      evacuationDirs: env.DRCTL_EVACUATIONS_DIR?.split(':').filter(Boolean),
    },
    evidence: evidenceFromEnv(env),
  });
  for (const [key, value] of Object.entries(env)) {
    const match = /^DRCTL_PG_(.+)_(URL|SECRET)$/.exec(key);
    if (match?.[1] !== undefined && value)
      config.postgres.connections[match[1].toLowerCase().replace(/_/g, '-')] =
        match[2] === 'SECRET' ? { secret: value } : value;
  }
  if (options.overrides) mergeInto(config, options.overrides);
  const { apiKey, tlsCertPath, tlsCertData, tlsKeyPath, tlsKeyData, tlsCaPath, tlsCaData } = config.temporal;
  if ([apiKey, tlsCertPath, tlsCertData, tlsKeyPath, tlsKeyData, tlsCaPath, tlsCaData].some(Boolean)) {
    config.temporal.tls = true;
  }
  checkPostgresTlsFiles(config.postgres.connections, cwd);
  checkEvidence(config.evidence);
  checkKnownKmsKeys(config.codec.knownKmsKeyArns);
  checkPacing(config.aws.pacing);
  if (config.temporal.httpAddress === '') delete config.temporal.httpAddress;
  checkHttpAddress(config.temporal.httpAddress);
  return config;
}

/** `codec.knownKmsKeyArns` is a list of KMS key ARNs (a payload names its key by ARN; an alias moves). */
function checkKnownKmsKeys(arns: unknown): void {
  const setting = 'codec.knownKmsKeyArns (DRCTL_CODEC_KNOWN_KMS_KEY_ARNS)';
  if (!Array.isArray(arns))
    throw new ConfigError(`${setting} is ${JSON.stringify(arns)}: give a list of KMS key ARNs`);
  for (const arn of arns) {
    if (typeof arn !== 'string' || !isKmsKeyArn(arn))
      throw new ConfigError(
        `${setting} lists ${JSON.stringify(arn)}: give each key by its key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias or a bare key id: a payload names its key's ARN, and an alias may name another key tomorrow (\`aws kms describe-key --key-id <alias> --query KeyMetadata.Arn\`)`,
      );
  }
}

/** Every paced API is one the pacer knows, and its bucket has a positive burst and refill (a bucket without them never lets a call go). */
function checkPacing(pacing: AwsPacingLimits): void {
  const known = Object.keys(AWS_API_LIMITS);
  for (const [api, rate] of Object.entries(pacing)) {
    if (!known.includes(api)) {
      throw new ConfigError(`aws.pacing.${api} is not a paced API: use ${known.join(', ')}`);
    }
    for (const field of ['burst', 'perSecond'] as const) {
      const value: unknown = (rate as unknown as Record<string, unknown> | undefined)?.[field];
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new ConfigError(
          `aws.pacing.${api}.${field} must be a positive number, not ${JSON.stringify(value) ?? 'missing'}: give both burst and perSecond (AWS's: ${JSON.stringify(AWS_API_LIMITS[api as keyof AwsPacingLimits])})`,
        );
      }
    }
  }
}

function checkHttpAddress(httpAddress: string | undefined): void {
  if (httpAddress === undefined || /^(\[[0-9a-fA-F:]+\]|[^:\s/\[\]]+):\d{1,5}$/.test(httpAddress)) return;
  throw new ConfigError(
    `temporal.httpAddress (TEMPORAL_HTTP_ADDRESS) must be host:port of Temporal's HTTP API, such as temporal.internal:7243 (no scheme: TLS follows temporal.tls); got "${httpAddress}"`,
  );
}

/**
 * The `temporal` CLI's TLS environment names (temporalio/cli cliext/option-sets.yaml) and, first, its older
 * names, which win there too (cliext/client.go).
 */
const TEMPORAL_TLS_ENV = {
  tlsCertPath: ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
  tlsCertData: ['TEMPORAL_TLS_CERT_DATA', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
  tlsKeyPath: ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
  tlsKeyData: ['TEMPORAL_TLS_KEY_DATA', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
  tlsCaPath: ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
  tlsCaData: ['TEMPORAL_TLS_CA_DATA', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
  tlsServerName: ['TEMPORAL_TLS_SERVER_NAME'],
} as const;

/** The environment names of one Temporal TLS setting, for messages: `TEMPORAL_TLS_CA or TEMPORAL_TLS_SERVER_CA_CERT_PATH`. */
export function temporalTlsEnvNames(setting: keyof typeof TEMPORAL_TLS_ENV): string {
  return TEMPORAL_TLS_ENV[setting].join(' or ');
}

function temporalTlsFromEnv(env: NodeJS.ProcessEnv): Partial<DrctlConfig['temporal']> {
  const settings: Partial<DrctlConfig['temporal']> = {};
  for (const [setting, names] of Object.entries(TEMPORAL_TLS_ENV) as Array<
    [keyof typeof TEMPORAL_TLS_ENV, readonly string[]]
  >) {
    const value = names.map((name) => env[name]).find((found) => found !== undefined && found !== '');
    if (value !== undefined) settings[setting] = value;
  }
  const disable = env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;
  if (disable !== undefined) settings.tlsDisableHostVerification = disable === 'true' || disable === '1';
  return settings;
}

const PG_SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
const PG_TLS_FILES = ['sslrootcert', 'sslcert', 'sslkey'];

/**
 * A PostgreSQL URL's TLS files are read when a session opens; a wrong path would surface mid-failover as a
 * connection error. Checked here instead, naming the connection, its setting and the file.
 */
function checkPostgresTlsFiles(connections: Record<string, SecretSource>, cwd: string): void {
  for (const [name, url] of Object.entries(connections)) {
    // A URL kept in Secrets Manager is checked when it is read, at its first use.
    if (typeof url !== 'string') continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue; // The adapter reports a malformed URL when a runbook uses it.
    }
    const where = `PostgreSQL connection "${name}" (postgres.connections.${name} or DRCTL_PG_${name.toUpperCase().replace(/-/g, '_')}_URL)`;
    const mode = parsed.searchParams.get('sslmode');
    if (mode !== null && !PG_SSL_MODES.includes(mode)) {
      throw new ConfigError(
        `${where}: sslmode=${mode} is not a PostgreSQL sslmode: use verify-full (recommended) or one of ${PG_SSL_MODES.join(', ')}`,
      );
    }
    for (const parameter of PG_TLS_FILES) {
      const file = parsed.searchParams.get(parameter);
      if (file === null) continue;
      try {
        accessSync(resolve(cwd, file), constants.R_OK);
      } catch (error) {
        throw new ConfigError(
          `${where}: ${parameter} file ${resolve(cwd, file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix the path in the URL or the file's permissions`,
        );
      }
    }
  }
}

function secretFromEnv(value: string | undefined, secretName: string | undefined): SecretSource | undefined {
  if (value) return value;
  return secretName ? { secret: secretName } : undefined;
}

/** A comma-separated setting's items, trimmed, empty ones dropped; undefined when it is unset. */
function listFromEnv(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function switchFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  throw new ConfigError(`${name} must be on or off, not "${env[name]}"`);
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive whole number of milliseconds, not "${value}"`);
  return n;
}

function readConfigFile(path: string): ConfigOverrides {
  if (!existsSync(path)) {
    throw new ConfigError(`config file ${path} does not exist: create it, or unset DRCTL_CONFIG`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid JSON (${(error as Error).message}): fix it and retry`,
    );
  }
  // The CLI's validation memo (of this build) recalls a file it found valid: a warm command loads no zod for it.
  const memo = runbookMemo();
  const recalled = { drctlConfigFile: parsed };
  if (memo?.recall<{ valid: true }>(recalled) !== undefined) return parsed as ConfigOverrides;
  // Loaded only when there is a file to check: `--help` and commands that read no configuration skip zod.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, as loadConfig is.
  const { configFileProblems } = require('./config-file-schema') as typeof import('./config-file-schema');
  const problems = configFileProblems(parsed);
  if (problems.length === 1) throw new ConfigError(`config file ${path}: ${problems[0]}`);
  if (problems.length > 1)
    throw new ConfigError(
      `config file ${path} has ${problems.length} problems: ${problems.map((problem, index) => `(${index + 1}) ${problem}`).join('; ')}`,
    );
  // The memo keeps validated runbooks; a valid config file is kept as a mark under its own key.
  memo?.remember(recalled, { valid: true });
  return parsed as ConfigOverrides;
}

/** Copies every defined value of `source` into `target`, one section deep; undefined never erases a value. */
function mergeInto(target: DrctlConfig, source: ConfigOverrides): void {
  for (const section of Object.keys(source) as Array<keyof DrctlConfig>) {
    const values = source[section];
    if (section === 'source' || values === undefined || values === null || typeof values !== 'object')
      continue;
    const into = target[section] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      into[key] =
        key === 'connections' || key === 'pacing'
          ? { ...(into[key] as object), ...(value as object) }
          : value;
    }
  }
}
