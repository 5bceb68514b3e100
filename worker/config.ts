import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AWS_API_LIMITS, type AwsPacingLimits } from '../activities/aws-pacing/api-limits';

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
    /**
     * Activities one worker runs at once. Most of drctl's activities wait (for a token, a change, a promotion), so
     * an evacuation of hundreds of databases needs far more than the SDK's default of 100. Default 1,000.
     */
    maxConcurrentActivities: number;
  };
  aws: {
    /** Default region when a runbook names none. Env AWS_REGION / AWS_DEFAULT_REGION. Default us-east-1. */
    region: string;
    /** Endpoint override for local emulators. Env AWS_ENDPOINT_URL. Credentials come from the default chain. */
    endpoint?: string;
    /**
     * The account's API rate limits the worker paces its calls to (token buckets shared by every run, split among
     * the workers of the task queue). Default: AWS's published limits (Route 53 burst 50, 10/s; RDS burst 300,
     * 12/s per region). Config file only, e.g. `"aws": {"pacing": {"route53": {"burst": 50, "perSecond": 5}}}`.
     */
    pacing: AwsPacingLimits;
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
      adminToken: env.UNLEASH_ADMIN_TOKEN,
      clientToken: env.UNLEASH_CLIENT_TOKEN,
    },
    operator: { identity: env.DRCTL_OPERATOR },
  });
  for (const [key, value] of Object.entries(env)) {
    const match = /^DRCTL_PG_(.+)_URL$/.exec(key);
    if (match?.[1] !== undefined && value)
      config.postgres.connections[match[1].toLowerCase().replace(/_/g, '-')] = value;
  }
  if (options.overrides) mergeInto(config, options.overrides);
  if (config.temporal.apiKey) config.temporal.tls = true;
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
      into[key] =
        key === 'connections' || key === 'pacing'
          ? { ...(into[key] as object), ...(value as object) }
          : value;
    }
  }
}
