import type { KeyObject } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { appendBundle, BundleFileConflictError, ChainConflictError } from '../../evidence/append-bundle';
import { askLedger } from '../../evidence/ask-ledger';
import type { ChainHeadHint } from '../../evidence/chain-head';
import { ChainLayout } from '../../evidence/layout';
import { LEDGER_WORKFLOW_ID, requestKey, type EvidenceRequest } from '../../evidence/ledger-protocol';
import type { EvidenceStore } from '../../evidence/store-port';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { pollUntil } from '../poll-until';
import { collectRun } from './collect-run';
import type { LoadedPolicy } from '../../auth/access-policy';
import type { EvidenceActivities } from './evidence-contracts';

/** What the evidence activities need; the worker builds it from its configuration (worker/evidence-ports.ts). */
export interface EvidencePorts {
  /** A client of the worker's namespace, with the worker's data converter (so results decode). */
  temporal: Client;
  namespace: string;
  /** The task queue the ledger workflow runs on; every drctl worker polls it. */
  ledgerTaskQueue: string;
  /** The Object Lock bucket; absent when the worker has none configured. */
  store?: EvidenceStore;
  /** Ed25519 private key that signs manifests; absent when not configured. */
  signingKey?: KeyObject;
  /** Key prefix inside the bucket. */
  prefix: string;
  retentionYears: number;
  /** The worker's access policy, to verify operator signatures in the drill report; without it none is "verified". */
  loadPolicy?: () => LoadedPolicy;
  now?: () => Date;
}

export function createEvidenceActivities(ports: EvidencePorts | undefined): EvidenceActivities {
  const required = (): EvidencePorts => {
    if (!ports) {
      throw permanentFailure(
        PermanentFailure.ConfigurationMissing,
        'evidence is not set up on this worker: it has no Temporal client for the evidence ledger',
      );
    }
    return ports;
  };
  // The ledger appends one bundle after another on this worker: where the last append left the head.
  const headHint: ChainHeadHint = {};

  return {
    async requestEvidence(caller) {
      const { temporal, ledgerTaskQueue } = required();
      const info = Context.current().info;
      if (!info.workflowExecution || !info.workflowType) {
        throw permanentFailure(
          PermanentFailure.InvalidState,
          'requestEvidence runs only as a workflow activity: it bundles the workflow that calls it',
        );
      }
      const { workflowId, runId } = info.workflowExecution;
      const parentExecution =
        caller === undefined
          ? (await temporal.workflow.getHandle(workflowId, runId).describe()).parentExecution
          : caller.parent;
      if (parentExecution?.workflowId) {
        const parent = await temporal.workflow
          .getHandle(parentExecution.workflowId, parentExecution.runId ?? undefined)
          .describe();
        if (parent.type === 'drillWorkflow') return { requested: false, includedIn: parent.workflowId };
      }
      const request: EvidenceRequest = {
        workflowId,
        runId,
        workflowType: info.workflowType,
        requestedAt: new Date().toISOString(),
      };
      await askLedger(temporal, ledgerTaskQueue, request);
      return { requested: true, ledgerWorkflowId: LEDGER_WORKFLOW_ID, workflowId, runId };
    },

    async waitForRunClosed(request) {
      const { temporal } = required();
      const handle = temporal.workflow.getHandle(request.workflowId, request.runId);
      try {
        const description = await pollUntil(
          () => handle.describe(),
          (found) => found.status.name !== 'RUNNING',
          { initialIntervalMs: 100, maxIntervalMs: 2000, describe: (found) => found.status.name },
        );
        return { closeStatus: description.status.name };
      } catch (error) {
        // Typed as NotFound so the ledger drops the request instead of waiting for a run that will never close.
        if (error instanceof WorkflowNotFoundError) {
          throw permanentFailure(
            PermanentFailure.NotFound,
            `run ${requestKey(request)} is not in Temporal (past the namespace's retention, deleted, or a request naming a run that never existed): it has no evidence to bundle; the ledger drops its request`,
          );
        }
        throw error;
      }
    },

    async writeEvidenceBundle(request) {
      const evidence = required();
      const { store, signingKey } = evidence;
      if (!store || !signingKey) {
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          `the worker has no evidence ${store ? 'signing key' : 'bucket'}: set ${
            store
              ? 'DRCTL_EVIDENCE_SIGNING_KEY_FILE (evidence.signingKeyFile)'
              : 'DRCTL_EVIDENCE_BUCKET (evidence.bucket)'
          }; the ledger keeps run ${request.workflowId} queued and retries`,
        );
      }
      const content = await collectRun(evidence.temporal, request, {
        ...(evidence.loadPolicy ? { loadPolicy: evidence.loadPolicy } : {}),
      });
      try {
        return await appendBundle(
          {
            store,
            layout: new ChainLayout(evidence.prefix, evidence.namespace),
            namespace: evidence.namespace,
            signingKey,
            retentionYears: evidence.retentionYears,
            now: evidence.now ?? (() => new Date()),
            headHint,
          },
          content,
        );
      } catch (error) {
        // Someone else took the sequence: the next attempt reads the new head and appends after it.
        if (error instanceof ChainConflictError) throw transientFailure(error.code, error.message);
        if (error instanceof BundleFileConflictError)
          throw permanentFailure(PermanentFailure.InvalidState, error.message);
        throw error;
      }
    },
  };
}
