import { loadPolicyFile } from '../../auth/io/policy-file';
import { loadReviewedCatalog } from '../../auth/io/reviewed-catalog';
import { AuthFileError } from '../../auth/io/auth-file-error';
import { failbackRunbook, FailbackUnsupportedError } from '../../runbooks/failback-runbook';
import { PermanentFailure, permanentFailure } from '../failures';
import type { AuthActivities } from './auth-contracts';

export interface AuthActivityDeps {
  /** The worker's access policy file (re-read at every run start, so an edit applies to the next run). */
  policyFile?: string;
  /** The worker's reviewed runbook folders. */
  catalogDirs: readonly string[];
}

/** The activities a run starts with: the policy that governs it, and its runbook from the reviewed catalog. */
export function createAuthActivities(deps: AuthActivityDeps | undefined): AuthActivities {
  const configured = (): AuthActivityDeps => {
    if (deps) return deps;
    throw permanentFailure(
      PermanentFailure.ConfigurationMissing,
      'this worker has no access policy or runbook catalog: configure access.policyFile and access.catalogDirs',
    );
  };
  return {
    loadAccessPolicy: async () => asPermanent(() => loadPolicyFile(configured().policyFile)),
    loadReviewedRunbook: async ({ runbookId, runbookHash, variant }) => {
      const { runbooks, broken } = asPermanent(() => loadReviewedCatalog(configured().catalogDirs));
      const entry = runbooks.get(runbookId);
      if (!entry) {
        const unusable = broken.filter(
          (file) =>
            file.issues.some((issue) => issue.message.includes(`"${runbookId}"`)) ||
            file.source.includes(runbookId),
        );
        throw permanentFailure(
          PermanentFailure.NotFound,
          unusable.length > 0
            ? `runbook "${runbookId}" is broken in the worker's reviewed catalog: ${unusable.map((file) => `${file.source}: ${file.message.split('\n').slice(-1)[0]?.trim() ?? ''}`).join('; ')}`
            : `runbook "${runbookId}" is not in the worker's reviewed catalog (${[...runbooks.keys()].join(', ') || 'empty'}); get it reviewed into ${configured().catalogDirs.join(':')}`,
        );
      }
      if (entry.sha256 !== runbookHash)
        throw permanentFailure(
          PermanentFailure.RunbookMismatch,
          `runbook ${runbookId} differs from the worker's reviewed catalog: you planned against sha256 ${runbookHash}, the catalog has ${entry.sha256} (${entry.source}); update your copy of the runbook to the reviewed one and plan again`,
        );
      const runbook =
        variant === 'failback' ? asPermanent(() => failbackRunbook(entry.runbook)) : entry.runbook;
      return { runbook, sha256: entry.sha256, source: entry.source };
    },
  };
}

function asPermanent<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof AuthFileError)
      throw permanentFailure(PermanentFailure.ConfigurationMissing, error.message);
    if (error instanceof FailbackUnsupportedError)
      throw permanentFailure(PermanentFailure.InvalidState, error.message);
    throw error;
  }
}
