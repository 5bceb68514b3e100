import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxNode } from '../../sandbox/node-runtime';
import { SandboxError } from '../../sandbox/sandbox-error';

const dir = mkdtempSync(join(tmpdir(), 'drctl-node-runtime-'));
const checkoutNode = join(dir, 'node');
writeFileSync(checkoutNode, '');
const missing = join(dir, 'no-such-node');

describe('the Node the sandbox starts its servers with', () => {
  test('GIVEN setup brought Node into the checkout WHEN a test runner on Node 20 starts the sandbox THEN it uses the checkout Node', () => {
    expect(sandboxNode({ execPath: '/usr/bin/node', version: 'v20.20.2' }, checkoutNode)).toBe(checkoutNode);
  });

  test('GIVEN no checkout Node WHEN the running Node is 24 or newer THEN it uses the running Node', () => {
    expect(sandboxNode({ execPath: '/opt/node24/bin/node', version: 'v24.21.0' }, missing)).toBe(
      '/opt/node24/bin/node',
    );
  });

  test('GIVEN no checkout Node WHEN the running Node is 20 THEN it refuses and says to run setup', () => {
    const start = () => sandboxNode({ execPath: '/usr/bin/node', version: 'v20.20.2' }, missing);
    expect(start).toThrow(SandboxError);
    expect(start).toThrow(/needs Node >= 24, but \/usr\/bin\/node is v20\.20\.2 .* run `npm run setup`/);
  });
});
