/**
 * Replaces workflows/fence-follow-up-run-length.ts in a test's workflow bundle: a fence follow-up continues as new
 * after two attempts instead of 200 (about 6 s instead of 100 minutes).
 */
export const ATTEMPTS_PER_RUN = 2;
