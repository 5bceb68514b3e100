import { mapBounded } from '../../common/map-bounded';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('mapBounded', () => {
  it('GIVEN 50 items and a limit of 4 THEN results keep the items order and at most 4 calls run at once', async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 50 }, (_, index) => index);

    const results = await mapBounded(items, 4, async (item) => {
      most = Math.max(most, ++inFlight);
      await tick();
      inFlight--;
      return item * 2;
    });

    expect(results).toEqual(items.map((item) => item * 2));
    expect(most).toBe(4);
  });

  it('GIVEN a call that fails THEN the map rejects with its error and no further item starts', async () => {
    const started: number[] = [];

    const outcome = mapBounded([0, 1, 2, 3, 4, 5, 6, 7], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error('item 1 failed');
      return item;
    });

    await expect(outcome).rejects.toThrow('item 1 failed');
    await tick();
    expect(started).toEqual([0, 1, 2]);
  });

  it('GIVEN no items THEN it answers an empty list without calling', async () => {
    expect(await mapBounded([], 8, () => Promise.reject(new Error('called')))).toEqual([]);
  });
});
