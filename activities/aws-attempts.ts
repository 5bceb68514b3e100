/**
 * Whether the AWS SDK sent the request that failed more than once: its retry strategy sends a request again when
 * an attempt failed in transit (a reset, a timeout, a 5xx), and the first may have reached AWS and taken effect.
 * A refusal of a mutating call that only makes sense after it took effect (a promotion refused because the
 * instance is no longer a replica, a swap because its DELETE no longer matches) then leaves the outcome unknown:
 * only reading the state tells. The SDK records the attempts on the error's `$metadata`.
 */
export function sentMoreThanOnce(error: unknown): boolean {
  return ((error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1) > 1;
}

/** The failure type of a mutating call whose outcome is unknown (see `sentMoreThanOnce`); always retryable. */
export const OUTCOME_UNKNOWN = 'OutcomeUnknown';
