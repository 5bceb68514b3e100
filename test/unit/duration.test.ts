import { durationToMs, formatMs } from '../../runbooks/duration';

describe('formatMs', () => {
  it.each([
    [835, '835ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [59 * 60_000 + 59_000, '59m59s'],
    [29 * 60_000 + 59_600, '29m59s'],
    [3 * 3_600_000 + 60_000, '3h1m'],
    [2 * 3_600_000, '2h'],
    [3_600_000 + 20_000, '1h20s'],
    [26 * 3_600_000 + 20 * 60_000 + 40_000, '1d2h20m'],
    [50 * 3_600_000, '2d2h'],
    [4 * 86_400_000, '4d'],
  ])('%d ms reads as %s, never rounded up, which parses back to within its last unit', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
    const back = durationToMs(text);
    expect(back).toBeLessThanOrEqual(ms);
    expect(ms - back).toBeLessThan(ms >= 86_400_000 ? 60_000 : 1000);
  });
});
