import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  MiddlewareStack,
} from '@smithy/types';

/** Where `markUncertainAttempts` keeps, on the call's handler context, that one of its attempts may have taken effect. */
const UNCERTAIN = 'drctlAttemptMayHaveTakenEffect';

/**
 * Marks the errors of a client's calls when one of the call's attempts may have reached AWS and taken effect:
 * the SDK sends a request again after an attempt failed in transit (a reset, a timeout) or with a 5xx, and that
 * attempt may have been executed. An attempt answered 4xx (a throttle, PriorRequestNotComplete, a refusal) was not.
 * The mark covers every attempt of the call, including the rounds the pacer sends again after a throttle (they
 * share the handler context). A refusal of a mutating call that only makes sense after it took effect (a swap
 * whose DELETE no longer matches, a promotion of an instance no longer a replica) is then not proof that nothing
 * happened: only reading the state tells (`mayHaveTakenEffect`). Clients without a middleware stack (test stubs)
 * are left as they are.
 */
export function markUncertainAttempts<I extends object, O extends object>(client: {
  middlewareStack?: MiddlewareStack<I, O>;
}): void {
  client.middlewareStack?.addRelativeTo(
    (next: FinalizeHandler<I, O>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<I>) => {
        try {
          return await next(args);
        } catch (error) {
          const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
            ?.httpStatusCode;
          if (status === undefined || status >= 500) context[UNCERTAIN] = true;
          if (context[UNCERTAIN] === true && typeof error === 'object' && error !== null)
            (error as { $mayHaveTakenEffect?: boolean }).$mayHaveTakenEffect = true;
          throw error;
        }
      },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'drctlUncertainAttempts', override: true },
  );
}

/** Whether an attempt of the failed call may have taken effect (see `markUncertainAttempts`). */
export function mayHaveTakenEffect(error: unknown): boolean {
  return (error as { $mayHaveTakenEffect?: boolean } | undefined)?.$mayHaveTakenEffect === true;
}

/** The failure type of a mutating call whose outcome is unknown (see `mayHaveTakenEffect`); always retryable. */
export const OUTCOME_UNKNOWN = 'OutcomeUnknown';
