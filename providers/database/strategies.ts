import { join } from 'node:path';
import type { DatabaseTarget } from '../../runbooks/schema';
import { DATABASE_PROVIDERS } from './registry';
import type { DatabasePorts, DatabaseStrategy, PollPacing, StrategyModule } from './strategy';

/**
 * Every provider's strategy, loaded from its folder by the provider's name, so adding a provider is its folder
 * plus one line in the registry. Returns the strategy for a target.
 */
export function createStrategies(
  ports: DatabasePorts,
  poll: PollPacing = {},
): (target: DatabaseTarget) => DatabaseStrategy<DatabaseTarget> {
  const strategies = new Map<string, DatabaseStrategy<DatabaseTarget>>();
  for (const { provider } of DATABASE_PROVIDERS) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by convention from the provider's folder.
    const module = require(join(__dirname, provider, 'strategy')) as StrategyModule;
    strategies.set(provider, module.createStrategy(ports, poll));
  }
  return (target) => {
    const strategy = strategies.get(target.provider);
    if (strategy === undefined) throw new Error(`no strategy for database provider "${target.provider}"`);
    return strategy;
  };
}
