import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  InitializeHandler,
  InitializeHandlerArguments,
  MiddlewareStack,
} from '@smithy/types';
import {
  activityCancellation,
  activityCancelled,
  currentRunId,
  currentStepScheduledAt,
  keepAlive,
  untilCancelled,
} from '../poll-until';
import { keepAliveDuringCalls } from './keep-alive-client';
import type { PacedApi } from './api-limits';
import type { AwsPacer } from './aws-pacer';

/** Error names AWS uses for "rate exceeded" (not PriorRequestNotComplete: that one the DNS activity waits out). */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
]);

export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return THROTTLING.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
}

const callPriority = new AsyncLocalStorage<number>();
/** The readers' signal of a shared call in progress: it aborts once none of them waits any more. */
const onBehalfOfSeveral = new AsyncLocalStorage<AbortSignal>();

/**
 * The readers of calls shared by several steps (a region's coalesced reads): a shared call goes on while one of
 * them still waits, whichever step's activity happened to send it, and stops (its token wait, its sending again
 * through throttling) once every one of them has been cancelled. A reader stops waiting when its own step is
 * cancelled.
 */
export class SharedCallReaders {
  private waiting = 0;
  private gone = new AbortController();

  /** Waits for `answer` on behalf of the calling step, until that step is cancelled. */
  async read<T>(answer: Promise<T>): Promise<T> {
    if (this.gone.signal.aborted) this.gone = new AbortController();
    this.waiting++;
    try {
      return await untilCancelled(answer);
    } finally {
      if (--this.waiting === 0) this.gone.abort(new Error('no step waits for this shared call any more'));
    }
  }

  /** Runs `work`, a shared call, with its paced calls bound to the readers, not to the activity sending it. */
  send<T>(work: () => Promise<T>): Promise<T> {
    if (this.gone.signal.aborted) this.gone = new AbortController();
    return onBehalfOfSeveral.run(this.gone.signal, work);
  }
}

/**
 * Runs `work` with its paced calls ranked as of `scheduledAt` rather than as the calling step: a call made on
 * behalf of several steps (a coalesced read) goes at the rank of the oldest of them, not of the one that happened
 * to send it. Undefined leaves the calls ranked as usual.
 */
export function rankedAs<T>(scheduledAt: number | undefined, work: () => Promise<T>): Promise<T> {
  return scheduledAt === undefined ? work() : callPriority.run(scheduledAt, work);
}

/** The rank a paced call made here goes at: `rankedAs`'s, else the calling step's scheduled time (undefined: now). */
export function callRank(): number | undefined {
  return callPriority.getStore() ?? currentStepScheduledAt();
}

/**
 * Puts an AWS SDK v3 client under the pacer:
 *
 * - every attempt (the SDK's own retries included) first takes a token from the account's bucket for `api`, the
 *   oldest step's calls first (`AwsPacer.take`; the step's scheduled time, or the rank `rankedAs` gives), noting
 *   the run that drew it (`AwsPacer.hasSpare` with `forRun`);
 * - a call AWS throttles anyway (another client of the account shares the budget) is sent again after the bucket
 *   refills, for as long as the activity lives (until it is cancelled: timed out or aborted): throttling slows a
 *   step, it never fails it. A throttled call was not executed, so sending it again is safe. Outside an activity
 *   the rounds are capped (`maxThrottleRounds`).
 *
 * - the activity heartbeats throughout the call, its token wait included (`keepAliveDuringCalls`).
 *
 * The client should use the SDK's standard retry mode: its adaptive mode adds a client-side limiter of its own that
 * this pacer makes redundant, and that also slows on Route 53's PriorRequestNotComplete (see `createProviderPorts`).
 */
export function paceClient<I extends object, O extends object>(
  client: { middlewareStack: MiddlewareStack<I, O> },
  pacer: AwsPacer,
  api: PacedApi,
  region: string,
  options: { maxThrottleRounds?: number } = {},
): void {
  const maxRounds = options.maxThrottleRounds ?? Number.POSITIVE_INFINITY;
  keepAliveDuringCalls(client);
  client.middlewareStack.add(
    (next: InitializeHandler<I, O>) => async (args: InitializeHandlerArguments<I>) => {
      for (let round = 1; ; round++) {
        try {
          return await next(args);
        } catch (error) {
          // A cancelled activity (timed out, aborted) is gone: its own call stops, or it would hold the token bucket
          // for as long as another client keeps the account throttled. A shared call goes on for its other steps.
          const readers = onBehalfOfSeveral.getStore();
          const callerGone = readers === undefined ? activityCancelled() : readers.aborted;
          if (!isThrottling(error) || round >= maxRounds || callerGone) throw error;
          pacer.throttled(api, region);
          keepAlive();
        }
      }
    },
    { step: 'initialize', name: 'drctlThrottledAgain', priority: 'high', override: true },
  );
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<I, O>) => async (args: FinalizeHandlerArguments<I>) => {
      // A step aborted or timed out while its call waits for a token never sends it (a promotion after an abort);
      // a shared call is sent for the steps still waiting on it.
      const cancelled = onBehalfOfSeveral.getStore() ?? activityCancellation();
      await pacer.take(api, region, callRank(), currentRunId(), cancelled);
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'drctlPacer', override: true },
  );
}
