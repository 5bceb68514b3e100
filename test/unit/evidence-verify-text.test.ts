import { verifyText } from '../../cli/commands/evidence';
import type { VerifyReport } from '../../evidence/verify-chain';

const report = (manifests: number): VerifyReport => ({
  ok: true,
  location: 's3://drctl-evidence',
  root: 'drctl-evidence/default',
  manifests,
  files: manifests * 6,
  ...(manifests === 0 ? {} : { first: 1, last: manifests }),
  entries: [],
  problems: [],
});

test('GIVEN an empty evidence chain WHEN verified THEN it says there was nothing to verify, not "verified"', () => {
  const text = verifyText(report(0));
  // Before: "✔ verified: every file hash, manifest link, …" over 0 manifests.
  expect(text).not.toContain('✔ verified');
  expect(text).toContain('– nothing to verify: the chain holds no bundle there');
});

test('GIVEN a chain of bundles that all hold WHEN verified THEN it says verified', () => {
  expect(verifyText(report(3))).toContain('sequences 1–3, 3 manifest(s) and 18 file(s) checked\n✔ verified');
});
