import type { InitializeHandler, InitializeHandlerArguments, MiddlewareStack } from '@smithy/types';
import { KEEP_ALIVE_MS, keepingAlive } from '../poll-until';

/**
 * Heartbeats the calling activity (with its last details) for as long as one AWS call lasts: the token wait, every
 * attempt and the SDK's backoffs between them. A slow answer (a busy endpoint, a Region that accepts connections
 * and answers late) is not a dead worker, and without this an activity waiting on one call longer than its
 * heartbeat timeout is timed out and retried, repeating its effects.
 */
export function keepAliveDuringCalls<I extends object, O extends object>(
  client: { middlewareStack: MiddlewareStack<I, O> },
  everyMs: number = KEEP_ALIVE_MS,
): void {
  client.middlewareStack.add(
    (next: InitializeHandler<I, O>) => (args: InitializeHandlerArguments<I>) =>
      keepingAlive(next(args), everyMs),
    { step: 'initialize', name: 'drctlKeepAlive', priority: 'high', override: true },
  );
}
