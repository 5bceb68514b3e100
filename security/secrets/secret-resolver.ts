import { LRUCache } from 'lru-cache';
import type { SecretSource } from '../../worker/config';
import { SecretError } from './secret-error';
import type { SecretsManagerPort } from './secrets-manager-port';

/**
 * Reads secrets by name and keeps each value for `ttlMs` (so a rotated secret is picked up within that time,
 * and a busy worker does not call Secrets Manager per activity). Concurrent reads of one secret share one
 * call. Values stay in memory only; nothing here logs or formats them.
 */
export class SecretResolver {
  private readonly cache: LRUCache<string, string>;

  constructor(port: SecretsManagerPort, options: { ttlMs: number; now?: () => number }) {
    this.cache = new LRUCache<string, string>({
      max: 500,
      ttl: options.ttlMs,
      ...(options.now === undefined ? {} : { perf: { now: options.now }, ttlResolution: 0 }),
      fetchMethod: (name) => port.getSecretString(name),
    });
  }

  async value(name: string): Promise<string> {
    const value = await this.cache.fetch(name);
    if (value === undefined)
      throw new SecretError('SecretInvalid', name, `secret ${name} has no value: put one in Secrets Manager`);
    return value;
  }

  /** A configured value: as given, or read from the secret it names. `field` names the setting in errors. */
  async resolve(source: SecretSource, field: string): Promise<string> {
    if (typeof source === 'string') return source;
    if (
      typeof source === 'object' &&
      source !== null &&
      typeof source.secret === 'string' &&
      source.secret !== ''
    ) {
      return this.value(source.secret);
    }
    throw new SecretError(
      'SecretInvalid',
      field,
      `${field} must be a value or { "secret": "<Secrets Manager secret name>" }, not ${describe(source)}`,
    );
  }
}

/** The shape of a bad setting, without its content (it may be a secret typed in the wrong place). */
function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return `a ${value === null ? 'null' : typeof value}`;
  return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
}
