import { dirname } from 'node:path';
import { loadConfig } from '../../worker/config';
import { getStack } from './stack';

/**
 * The config files `sandbox up` wrote for this stack pass the check a config file gets when it is read (the unit
 * tests check the files `sandbox/stack-files.ts` writes for a made-up stack; these are the real ones).
 */
test.each([
  ['drctl.config.json', () => getStack().configFile],
  ['drctl.tls.config.json', () => getStack().tls.configFile],
])("GIVEN the sandbox's %s WHEN loaded THEN it loads, every setting taken", (_name, fileOf) => {
  const file = fileOf();
  const config = loadConfig({ file, env: {}, cwd: dirname(file) });
  expect(config.source).toBe(file);
  expect(config.codec.enabled).toBe(true);
});
