import { loadPolicyFile } from '../../auth/io/policy-file';
import { loadReviewedCatalog } from '../../auth/io/reviewed-catalog';
import { AuthFileError } from '../../auth/io/auth-file-error';
import { evacuationSource, loadEvacuationFile, unknownEvacuation } from '../../evacuations/catalog';
import { evacuationSha256 } from '../../evacuations/evacuation-hash';
import { assertEvacuationFits } from '../../evacuations/evacuation-size';
import { EvacuationValidationError } from '../../evacuations/evacuation-validation-error';
import type { Runbook } from '../../runbooks/schema';
import { failbackRunbook, FailbackUnsupportedError } from '../../runbooks/failback-runbook';
import { PermanentFailure, permanentFailure } from '../failures';
import type { AuthActivities } from './auth-contracts';

export interface AuthActivityDeps {
  /** The worker's access policy file (re-read at every run start, so an edit applies to the next run). */
  policyFile?: string;
  /** The worker's reviewed runbook folders. */
  catalogDirs: readonly string[];
  /** The worker's reviewed evacuation folders, after the bundled examples. */
  evacuationDirs?: readonly string[];
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
    loadReviewedRunbook: async ({ runbookId, runbookHash, variant, recorded }) => {
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
        variant === 'failback'
          ? asPermanent(() =>
              failbackRunbook(
                entry.runbook,
                recorded === undefined
                  ? undefined
                  : {
                      run: recorded.run,
                      flagsBefore: new Map(recorded.flagsBefore),
                      recordsBefore: new Map(recorded.recordsBefore ?? []),
                    },
              ),
            )
          : entry.runbook;
      return { runbook, sha256: entry.sha256, source: entry.source };
    },
    loadReviewedEvacuation: async ({ evacuationId, sha256 }) => {
      const { catalogDirs, evacuationDirs = [] } = configured();
      // By declared id, as the CLI finds it: a reviewed file replaces the bundled example of its id.
      const source = asPermanent(() => evacuationSource(evacuationId, evacuationDirs));
      if (source === undefined)
        throw permanentFailure(
          PermanentFailure.NotFound,
          `evacuation "${evacuationId}" is not among the worker's reviewed evacuations (${unknownEvacuation(evacuationId, evacuationDirs).known.join(', ') || 'none'}); get it reviewed into DRCTL_EVACUATIONS_DIR on the worker`,
        );
      const evacuation = asPermanent(() => loadEvacuationFile(source));
      const { runbooks: catalog } = asPermanent(() => loadReviewedCatalog(catalogDirs));
      const runbooks: Record<string, Runbook> = {};
      const runbookHashes: Record<string, string> = {};
      const missing: string[] = [];
      for (const service of evacuation.waves.flatMap((wave) => wave.runbooks)) {
        const entry = catalog.get(service.runbook);
        if (entry === undefined) missing.push(service.runbook);
        else {
          runbooks[service.runbook] = entry.runbook;
          runbookHashes[service.runbook] = entry.sha256;
        }
      }
      if (missing.length > 0)
        throw permanentFailure(
          PermanentFailure.NotFound,
          `evacuation ${evacuationId} names runbooks the worker's reviewed catalog does not hold: ${missing.join(', ')}; get them reviewed into ${catalogDirs.join(':')}`,
        );
      const cover = { evacuation, runbookHashes };
      const reviewed = evacuationSha256(cover);
      if (reviewed !== sha256)
        throw permanentFailure(
          PermanentFailure.RunbookMismatch,
          `evacuation ${evacuationId} or one of its runbooks differs from the worker's reviewed copies: you signed sha256 ${sha256}, the worker has ${reviewed} (${source}); update your copies to the reviewed ones and start again`,
        );
      const loaded = { cover, runbooks, sha256: reviewed, source };
      // Refused here, with what to do, rather than by Temporal as an oversized result the run cannot read.
      asPermanent(() => assertEvacuationFits(`${evacuationId} (${source})`, loaded));
      return loaded;
    },
  };
}

function asPermanent<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof AuthFileError)
      throw permanentFailure(PermanentFailure.ConfigurationMissing, error.message);
    if (error instanceof EvacuationValidationError)
      throw permanentFailure(PermanentFailure.InvalidState, error.message);
    if (error instanceof FailbackUnsupportedError)
      throw permanentFailure(PermanentFailure.InvalidState, error.message);
    throw error;
  }
}
