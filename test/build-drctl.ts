import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Jest global setup: tests that run bin/drctl run the prebuilt JavaScript, so build it if a source is newer. */
export default function buildDrctl(): void {
  execFileSync('bash', [resolve(__dirname, '../scripts/build.sh')], { stdio: 'inherit' });
}
