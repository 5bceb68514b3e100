import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const BUILT = resolve(ROOT, 'dist', 'sandbox', 'sandbox-paths.js');

/**
 * The CLI runs from dist/ (prebuilt by setup and the test setups), and its sandbox commands (`drill run
 * --restore-sandbox`, `sandbox …`) find moto, PostgreSQL's data and the venv under the checkout's .sandbox/, not
 * under dist/.sandbox/.
 */
test('GIVEN the prebuilt CLI WHEN it locates the sandbox THEN it names the checkout root, as the sources do', () => {
  expect(existsSync(BUILT)).toBe(true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built module, as bin/drctl loads it.
  const built = require(BUILT) as typeof import('../../sandbox/sandbox-paths');
  expect(built.REPO_ROOT).toBe(ROOT);
  expect(built.sandboxPaths.dir).toBe(resolve(ROOT, '.sandbox'));
});
