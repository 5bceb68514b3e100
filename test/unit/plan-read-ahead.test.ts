import { freshPlan, PLAN_READ_AHEAD_FRESH_MS } from '../../kinds/plan-read-ahead';

describe('a plan read ahead', () => {
  const answered = (msAgo: number) => ({ plan: ['the plan'], answeredAt: Date.now() - msAgo });

  it('GIVEN none THEN the step reads its own', () => {
    expect(freshPlan(undefined)).toBeUndefined();
  });

  it('GIVEN one answered while the step before ran THEN it stands; older than the bound THEN the step reads again', () => {
    expect(freshPlan(answered(500))).toEqual(['the plan']);
    expect(freshPlan(answered(PLAN_READ_AHEAD_FRESH_MS + 1_000))).toBeUndefined();
  });

  it('GIVEN a kind that allows longer (a promotion after an RDS fence) THEN its own bound decides', () => {
    expect(freshPlan(answered(60_000), 10 * 60_000)).toEqual(['the plan']);
    expect(freshPlan(answered(11 * 60_000), 10 * 60_000)).toBeUndefined();
  });
});
