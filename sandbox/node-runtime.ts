import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SandboxError } from './sandbox-error';
import { SANDBOX_DIR } from './sandbox-paths';

/** drctl and the sandbox's node servers (Unleash 8 needs Node >= 22) run on Node >= 24. */
export const MIN_NODE_MAJOR = 24;

/** Where scripts/setup.sh puts the pinned Node when the machine's is older than MIN_NODE_MAJOR. */
export const CHECKOUT_NODE = resolve(SANDBOX_DIR, 'node', 'bin', 'node');

/**
 * The Node binary the sandbox starts its servers with: the checkout's pinned Node when setup brought one, else
 * the Node running this code if it is recent enough. A server started by a test runner on an old Node would
 * otherwise inherit that old Node.
 */
export function sandboxNode(
  current: { execPath: string; version: string } = { execPath: process.execPath, version: process.version },
  checkoutNode = CHECKOUT_NODE,
): string {
  if (existsSync(checkoutNode)) return checkoutNode;
  const major = Number(/^v(\d+)\./.exec(current.version)?.[1] ?? 0);
  if (major >= MIN_NODE_MAJOR) return current.execPath;
  throw new SandboxError(
    'MissingTool',
    `the sandbox needs Node >= ${MIN_NODE_MAJOR}, but ${current.execPath} is ${current.version} and ${checkoutNode} does not exist: run \`npm run setup\` (it brings Node ${MIN_NODE_MAJOR} from the npm registry)`,
  );
}
