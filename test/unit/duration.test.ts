import { durationToMs, formatMs } from '../../runbooks/duration';

describe('formatMs', () => {
  it.each([
    [835, '835ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [59 * 60_000 + 59_000, '59m59s'],
    [3 * 3_600_000 + 60_000, '3h1m'],
    [2 * 3_600_000, '2h'],
    [50 * 3_600_000, '2d2h'],
    [4 * 86_400_000, '4d'],
  ])('%d ms reads as %s, which parses back to within its last unit', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
    expect(Math.abs(durationToMs(text) - ms)).toBeLessThan(ms >= 86_400_000 ? 3_600_000 : 60_000);
  });
});
