/**
 * Attempts per workflow run of a fence follow-up before it continues as new, keeping its history short: a
 * follow-up may try for weeks. In a module of its own so that a test can bundle the workflow with runs of a few
 * attempts and see a real follow-up continue as new (at 200, its first run lasts about 100 minutes).
 */
export const ATTEMPTS_PER_RUN = 200;
