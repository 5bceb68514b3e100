import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StackInfo } from '../../sandbox/stack-info';

/** The running sandbox, as `sandbox up` (run by the integration global setup) described it. */
export function getStack(): StackInfo {
  const file = resolve(__dirname, '../../.sandbox/stack.json');
  if (!existsSync(file)) {
    throw new Error(`No sandbox description at ${file}. Run \`npm run sandbox -- up\` first.`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}
