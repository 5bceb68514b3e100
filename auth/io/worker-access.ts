import type { LoadedPolicy } from '../access-policy';
import { AuthFileError } from './auth-file-error';
import { loadPolicyFile } from './policy-file';
import type { BrokenEntry } from '../../runbooks/catalog';
import { loadReviewedCatalog } from './reviewed-catalog';

export interface WorkerAccessSettings {
  policyFile?: string;
  catalogDirs: readonly string[];
  injections: Readonly<Record<string, unknown>>;
  /** Where the settings came from, for messages (the config file, or "the environment"). */
  configSource: string;
}

/**
 * Checks, before a worker polls, that its access policy, its reviewed catalog and its drill injection
 * commands are usable: a worker that would refuse every run, or run a malformed command, does not start. Broken
 * runbook files are returned for the worker to report; the good runbooks still run.
 */
export function checkWorkerAccess(settings: WorkerAccessSettings): {
  policy: LoadedPolicy;
  runbooks: string[];
  broken: BrokenEntry[];
} {
  const policy = loadPolicyFile(settings.policyFile);
  const catalog = loadReviewedCatalog(settings.catalogDirs);
  for (const [name, argv] of Object.entries(settings.injections)) {
    if (
      !/^[a-z0-9][a-z0-9-]*$/.test(name) ||
      !Array.isArray(argv) ||
      argv.length === 0 ||
      !argv.every((part) => typeof part === 'string' && part !== '')
    )
      throw new AuthFileError(
        'CatalogInvalid',
        settings.configSource,
        `${settings.configSource}: drill.injections.${name} must be a lower-case name with a non-empty argv (array of strings), e.g. "stop-primary-vm": ["/usr/local/bin/stop-vm", "ehr-primary"]`,
        [{ path: `drill.injections.${name}`, message: 'a non-empty argv of strings' }],
      );
  }
  return { policy, runbooks: [...catalog.runbooks.keys()], broken: [...catalog.broken] };
}
