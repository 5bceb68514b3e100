import { readChainHead, type ChainHeadHint } from '../../evidence/chain-head';
import { ChainLayout } from '../../evidence/layout';
import { sha256Hex } from '../../evidence/manifest';
import { FakeEvidenceStore } from '../fakes/fake-evidence-store';

/**
 * The chain's head is read before every append, and the chain only grows (six years of manifests under Object
 * Lock). Listing every manifest costs a request per 1,000 (S3's page): 200 requests at 200,000 manifests, on
 * every append. The head is found in one request from where the worker last saw it, and in about 2·log₂(n / 1,000)
 * without a hint. `listRequests` counts the listing requests S3 would receive.
 */
const layout = new ChainLayout('evidence/', 'default');
const lock = { lockMode: 'COMPLIANCE', retainUntil: new Date('2033-01-01T00:00:00Z') };

function chainOf(count: number): FakeEvidenceStore {
  const store = new FakeEvidenceStore();
  for (let sequence = 1; sequence <= count; sequence++)
    store.putVersion(layout.manifestKey(sequence), `{"sequence":${sequence}}`, lock);
  return store;
}

async function headOf(store: FakeEvidenceStore, hint?: ChainHeadHint) {
  store.listRequests = 0;
  const head = await readChainHead(store, layout, hint);
  return { sequence: head?.sequence, requests: store.listRequests };
}

describe('finding the evidence chain head', () => {
  it('GIVEN 200,000 manifests and no hint THEN the head is found in under 20 listing requests (a full listing takes 200)', async () => {
    const store = chainOf(200_000);

    const found = await headOf(store);
    store.listRequests = 0;
    await store.listKeys(layout.manifestsPrefix);

    expect(found.sequence).toBe(200_000);
    expect(found.requests).toBeLessThan(20);
    expect(store.listRequests).toBe(200);
  });

  it('GIVEN the hint of the last append THEN one request finds the head, and the hint follows it', async () => {
    const store = chainOf(50_000);
    const hint: ChainHeadHint = {};
    await readChainHead(store, layout, hint);
    store.putVersion(layout.manifestKey(50_001), '{"sequence":50001}', lock);

    const found = await headOf(store, hint);

    expect(found).toEqual({ sequence: 50_001, requests: 1 });
    expect(hint.sequence).toBe(50_001);
  });

  it.each([
    ['a stale hint (another writer appended 3,500 since)', 10_000, 13_500],
    ['a hint past the head (another bucket)', 9_000_000, 4_321],
    ['a hint on a manifest hidden since by a delete marker', 4_321, 4_321],
  ])(
    'GIVEN %s and the newest manifest hidden by a delete marker THEN the head is still that manifest, read by its version id',
    async (_, hinted, count) => {
      // Before: the head was count - 1, and the next append wrote a second manifest over the delete marker at count.
      const store = chainOf(count);
      store.addDeleteMarker(layout.manifestKey(count));

      const head = await readChainHead(store, layout, { sequence: hinted });

      expect(head?.sequence).toBe(count);
      expect(head?.sha256).toBe(sha256Hex(`{"sequence":${count}}`));
    },
  );

  it('GIVEN the newest manifests hidden by delete markers beyond a page THEN the head is the newest one stored, hidden or not', async () => {
    const store = chainOf(3_000);
    for (let sequence = 1_500; sequence <= 3_000; sequence++)
      store.addDeleteMarker(layout.manifestKey(sequence));

    expect((await headOf(store)).sequence).toBe(3_000);
  });

  it('GIVEN a key past the head holding a delete marker alone (no manifest ever stored there) THEN it is not the head', async () => {
    const store = chainOf(1_200);
    store.addDeleteMarker(layout.manifestKey(1_201));

    expect((await headOf(store)).sequence).toBe(1_200);
  });

  it('GIVEN keys that sort before and after the manifests (a folder object, a README) THEN the search steps over them', async () => {
    const store = chainOf(200_000);
    store.putVersion(layout.manifestsPrefix, '', lock);
    store.putVersion(`${layout.manifestsPrefix}README.txt`, 'not a manifest', lock);

    const found = await headOf(store);

    expect(found.sequence).toBe(200_000);
    expect(found.requests).toBeLessThan(20);
  });

  it('GIVEN a key among the manifests that is not one THEN the whole chain is listed, and the head is right', async () => {
    const store = chainOf(2_500);
    store.putVersion(`${layout.manifestsPrefix}0000001800.bak`, 'not a manifest', lock);

    expect((await headOf(store)).sequence).toBe(2_500);
  });

  it('GIVEN an empty chain, or one manifest THEN null, or that manifest, in one request', async () => {
    expect(await headOf(chainOf(0))).toEqual({ sequence: undefined, requests: 1 });
    expect(await headOf(chainOf(1))).toEqual({ sequence: 1, requests: 1 });
  });
});
