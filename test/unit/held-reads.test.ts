import { HELD_READS_FRESH_MS, heldReadsServe } from '../../workflows/held-reads';

/**
 * A failover its evacuation released makes no change on a pre-flight read while it was held unless the release came
 * soon after those reads: older, it reads again.
 */
test('reads still running at the release serve it: they end after it', () => {
  expect(heldReadsServe(50_000, undefined)).toBe(true);
});

test('reads ended within the freshness window before the release serve it', () => {
  expect(heldReadsServe(50_000, 50_000)).toBe(true);
  expect(heldReadsServe(50_000, 50_000 - HELD_READS_FRESH_MS)).toBe(true);
});

test('reads ended longer ago than the freshness window are read again', () => {
  expect(heldReadsServe(50_000, 50_000 - HELD_READS_FRESH_MS - 1)).toBe(false);
  expect(heldReadsServe(10 * 60_000, 0)).toBe(false);
});
