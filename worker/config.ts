import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

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
     * (name upper-cased, dashes as underscores).
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
    /** Who is acting, recorded in every run. Env DRCTL_OPERATOR, else the OS user. */
    identity: string;
  };
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
/** The operator identity lands in a plain search attribute: a user name or e-mail, never free text. */
const OPERATOR_IDENTITY = /^[A-Za-z0-9._@+-]{1,128}$/;

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
    secrets: { cacheTtlMs: 60_000 },
    codec: { enabled: false, dataKeyMaxAgeMs: 300_000, dataKeyMaxUses: 10_000 },
    codecServer: { listen: '127.0.0.1:8088', allowedOrigins: [] },
    operator: { identity: env.USER ?? env.LOGNAME ?? 'unknown-operator' },
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
      adminToken: secretFromEnv(env.UNLEASH_ADMIN_TOKEN, env.DRCTL_UNLEASH_ADMIN_TOKEN_SECRET),
      clientToken: secretFromEnv(env.UNLEASH_CLIENT_TOKEN, env.DRCTL_UNLEASH_CLIENT_TOKEN_SECRET),
    },
    secrets: { cacheTtlMs: numberFromEnv(env, 'DRCTL_SECRETS_CACHE_MS') },
    codec: {
      enabled: switchFromEnv(env, 'DRCTL_CODEC'),
      kmsKeyId: env.DRCTL_CODEC_KMS_KEY_ID,
      keyringFile: env.DRCTL_CODEC_KEYRING_FILE,
      dataKeyMaxAgeMs: numberFromEnv(env, 'DRCTL_CODEC_DATA_KEY_MAX_AGE_MS'),
    },
    codecServer: {
      listen: env.DRCTL_CODEC_SERVER_LISTEN,
      allowedOrigins: env.DRCTL_CODEC_SERVER_ORIGINS?.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      token: secretFromEnv(env.DRCTL_CODEC_SERVER_TOKEN, env.DRCTL_CODEC_SERVER_TOKEN_SECRET),
    },
    operator: { identity: env.DRCTL_OPERATOR },
  });
  for (const [key, value] of Object.entries(env)) {
    const match = /^DRCTL_PG_(.+)_(URL|SECRET)$/.exec(key);
    if (match?.[1] !== undefined && value)
      config.postgres.connections[match[1].toLowerCase().replace(/_/g, '-')] =
        match[2] === 'SECRET' ? { secret: value } : value;
  }
  if (options.overrides) mergeInto(config, options.overrides);
  if (config.temporal.apiKey) config.temporal.tls = true;
  if (!OPERATOR_IDENTITY.test(config.operator.identity)) {
    throw new ConfigError(
      `DRCTL_OPERATOR (or the OS user) must be a user name or e-mail address (letters, digits, . _ @ + -), not "${config.operator.identity}": it is stored unencrypted as the runs' DrctlInitiator search attribute`,
    );
  }
  return config;
}

function secretFromEnv(value: string | undefined, secretName: string | undefined): SecretSource | undefined {
  if (value) return value;
  return secretName ? { secret: secretName } : undefined;
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
