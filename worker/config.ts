import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * drctl's configuration: built once from defaults, then a config file, then the environment, then explicit
 * overrides. Runbooks name connections and tokens; their secrets live only here.
 */
export interface DrctlConfig {
  temporal: {
    /** host:port of the Temporal frontend. Env TEMPORAL_ADDRESS. Default 127.0.0.1:7233. */
    address: string;
    /** Env TEMPORAL_NAMESPACE. Default `default`. */
    namespace: string;
    /** Env DRCTL_TASK_QUEUE. Default `drctl`. */
    taskQueue: string;
    /** Env TEMPORAL_API_KEY; turns TLS on. */
    apiKey?: string;
    /** Env TEMPORAL_TLS=true, or implied by an API key. */
    tls: boolean;
  };
  aws: {
    /** Default region when a runbook names none. Env AWS_REGION / AWS_DEFAULT_REGION. Default us-east-1. */
    region: string;
    /** Endpoint override for local emulators. Env AWS_ENDPOINT_URL. Credentials come from the default chain. */
    endpoint?: string;
  };
  unleash: {
    /** Base URL of the Unleash server, e.g. http://127.0.0.1:4242. Env UNLEASH_URL. */
    url?: string;
    /** Admin API token, used to change flags. Env UNLEASH_ADMIN_TOKEN. */
    adminToken?: string;
    /** Backend (client) API token, used to confirm what clients see. Env UNLEASH_CLIENT_TOKEN. */
    clientToken?: string;
  };
  postgres: {
    /** Connection name → connection URL. Env DRCTL_PG_<NAME>_URL (name upper-cased, dashes as underscores). */
    connections: Record<string, string>;
  };
  operator: {
    /** Who is acting, recorded in every run. Env DRCTL_OPERATOR, else the OS user. */
    identity: string;
  };
  evidence: EvidenceSettings;
}

/** Where evidence bundles go and how they are signed (README "Evidence"). */
export interface EvidenceSettings {
  /** S3 bucket with Object Lock (COMPLIANCE). Env DRCTL_EVIDENCE_BUCKET. Unset: bundles wait in the ledger. */
  bucket?: string;
  /** The bucket's region. Env DRCTL_EVIDENCE_REGION. Default: aws.region. */
  region?: string;
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
    prefix: env.DRCTL_EVIDENCE_PREFIX,
    signingKeyFile: env.DRCTL_EVIDENCE_SIGNING_KEY_FILE,
    publicKeyFiles: env.DRCTL_EVIDENCE_PUBLIC_KEY_FILES?.split(',')
      .map((file) => file.trim())
      .filter(Boolean),
    retentionYears: years === undefined ? undefined : Number(years),
    taskQueue: env.DRCTL_EVIDENCE_TASK_QUEUE,
  };
}

function checkEvidence(settings: EvidenceSettings): void {
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

/** Loads the configuration. `env` and `cwd` are parameters so tests never touch the real process. */
export function loadConfig(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; file?: string; overrides?: ConfigOverrides } = {},
): DrctlConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const config: DrctlConfig = {
    temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'drctl', tls: false },
    aws: { region: 'us-east-1' },
    unleash: {},
    postgres: { connections: {} },
    operator: { identity: env.USER ?? env.LOGNAME ?? 'unknown-operator' },
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
  if (file !== undefined) mergeInto(config, readConfigFile(resolve(cwd, file)));

  mergeInto(config, {
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.DRCTL_TASK_QUEUE,
      apiKey: env.TEMPORAL_API_KEY,
      tls: env.TEMPORAL_TLS === undefined ? undefined : env.TEMPORAL_TLS === 'true',
    },
    aws: { region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION, endpoint: env.AWS_ENDPOINT_URL },
    unleash: {
      url: env.UNLEASH_URL,
      adminToken: env.UNLEASH_ADMIN_TOKEN,
      clientToken: env.UNLEASH_CLIENT_TOKEN,
    },
    operator: { identity: env.DRCTL_OPERATOR },
    evidence: evidenceFromEnv(env),
  });
  for (const [key, value] of Object.entries(env)) {
    const match = /^DRCTL_PG_(.+)_URL$/.exec(key);
    if (match?.[1] !== undefined && value)
      config.postgres.connections[match[1].toLowerCase().replace(/_/g, '-')] = value;
  }
  if (options.overrides) mergeInto(config, options.overrides);
  if (config.temporal.apiKey) config.temporal.tls = true;
  checkEvidence(config.evidence);
  return config;
}

function readConfigFile(path: string): ConfigOverrides {
  if (!existsSync(path)) {
    throw new ConfigError(`config file ${path} does not exist: create it, or unset DRCTL_CONFIG`);
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ConfigOverrides;
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid JSON (${(error as Error).message}): fix it and retry`,
    );
  }
}

/** Copies every defined value of `source` into `target`, one section deep; undefined never erases a value. */
function mergeInto(target: DrctlConfig, source: ConfigOverrides): void {
  for (const section of Object.keys(source) as Array<keyof DrctlConfig>) {
    const values = source[section];
    if (values === undefined || values === null) continue;
    const into = target[section] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      into[key] = key === 'connections' ? { ...(into[key] as object), ...(value as object) } : value;
    }
  }
}
