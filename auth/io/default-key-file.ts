import { homedir } from 'node:os';
import { join } from 'node:path';

/** The standard place of the operator's key: `$XDG_CONFIG_HOME/drctl/operator-key.json`, else `~/.config/…`. */
export function defaultKeyFile(env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(configHome, 'drctl', 'operator-key.json');
}
