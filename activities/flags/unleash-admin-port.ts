/** The slice of the Unleash Admin API drctl uses: read one flag's state in an environment, toggle it. */

/** One flag's state in one environment, as the Admin API reports it. */
export interface FlagState {
  name: string;
  enabled: boolean;
  /** Strategies in this environment. */
  strategies: number;
  /**
   * Strategies in this environment that are not disabled. Unleash 7 adds a default 100 % strategy when a flag
   * with none is turned on; a flag left enabled with none is on for no client.
   */
  enabledStrategies: number;
}

export interface UnleashAdminPort {
  /** Throws a permanent NotFound when the flag, or the environment on it, does not exist. */
  getFlag(project: string, environment: string, name: string): Promise<FlagState>;
  setEnabled(project: string, environment: string, name: string, enabled: boolean): Promise<void>;
}
