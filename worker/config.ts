import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultKeyFile } from '../auth/io/key-file';

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
  };
  drill: {
    /** Named failure-injection commands (argv, no shell) a drill may ask for with `--inject <name>`. Config file only. */
    injections: Record<string, string[]>;
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
const BUNDLED_RUNBOOKS_DIR = join(__dirname, '..', 'runbooks', 'examples');

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
    operator: { keyFile: defaultKeyFile(env) },
    access: { catalogDirs: [BUNDLED_RUNBOOKS_DIR] },
    drill: { injections: {} },
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
    operator: { keyFile: env.DRCTL_KEY_FILE },
    access: {
      policyFile: env.DRCTL_POLICY_FILE,
      catalogDirs: env.DRCTL_CATALOG_DIRS?.split(':').filter(Boolean),
    },
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
    if (section === 'source' || values === undefined || values === null || typeof values !== 'object')
      continue;
    const into = target[section] as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      into[key] = key === 'connections' ? { ...(into[key] as object), ...(value as object) } : value;
    }
  }
}
