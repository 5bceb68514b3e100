import { criticalPathProviderMs } from '../../bench/critical-path';
import { median } from '../../bench/figures';
import { goalTable, isMet } from '../../bench/goals';
import { unionLength } from '../../bench/history-figures';
import type { TimelineEntry } from '../../workflows/run-types';

/** The arithmetic behind `npm run bench`'s goal lines (the figures themselves come from the real stack). */
const step = (stepId: string, providerMs: number, endedAt: string, group?: string): TimelineEntry => ({
  stepId,
  kind: 'wait',
  status: 'succeeded',
  startedAt: '2026-11-28T09:00:00.000Z',
  endedAt,
  attempts: 1,
  providerMs,
  ...(group === undefined ? {} : { group }),
});

test('GIVEN a parallel group WHEN the critical path is summed THEN only the member that ended last counts', () => {
  const timeline = [
    step('preflight', 100, '2026-11-28T09:00:01.000Z'),
    step('flags', 500, '2026-11-28T09:00:03.000Z', 'prepare'),
    step('backups', 900, '2026-11-28T09:00:02.000Z', 'prepare'),
    step('fence', 50, '2026-11-28T09:00:04.000Z'),
  ];
  expect(criticalPathProviderMs(timeline)).toBe(100 + 500 + 50);
});

test('GIVEN overlapping activity intervals THEN their union counts each instant once', () => {
  expect(
    unionLength([
      [0, 10],
      [5, 20],
      [30, 40],
      [40, 45],
    ]),
  ).toBe(35);
  expect(unionLength([])).toBe(0);
});

test('GIVEN even and odd series THEN the median is the middle value or the mean of the two middle ones', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});

test('GIVEN goals at and past their limits THEN the table says met or MISSED', () => {
  const time = { name: 'status', bound: 'at most', limit: 300, unit: 'ms', anchor: 'temporal 40ms' } as const;
  const speedUp = { name: 'vs bash', bound: 'at least', limit: 4, unit: '×', anchor: 'bash 8s' } as const;
  expect(isMet({ ...time, value: 300 })).toBe(true);
  expect(isMet({ ...time, value: 301 })).toBe(false);
  expect(isMet({ ...speedUp, value: 3.9 })).toBe(false);
  const [header, met, missed] = goalTable([
    { ...time, value: 120 },
    { ...speedUp, value: 2 },
  ]);
  expect(header).toMatch(/^goal\s+figure\s+limit\s+verdict\s+anchor$/);
  expect(met).toMatch(/^status\s+120ms\s+≤ 300ms\s+met\s+temporal 40ms$/);
  expect(missed).toMatch(/^vs bash\s+2\.0×\s+≥ 4\.0×\s+MISSED\s+bash 8s$/);
});
