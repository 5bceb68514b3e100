import type { Client } from '@temporalio/client';
import { ValueError } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { LRUCache } from 'lru-cache';
import { QUERYABLE_WORKFLOW_ID } from '../../common/queryable-id';
import { STATEMENT_MAX_AGE_MS, STATEMENT_MAX_SKEW_MS } from '../../auth/operator-authority';
import { STATEMENT_NONCE } from '../../auth/statement';
import { CodecError } from '../../security/codec/codec-error';
import { EncryptionCodec, encryptionKeyOf } from '../../security/codec/encryption-codec';
import { innermostMessage } from '../../workflows/innermost-message';
import { PermanentFailure, permanentFailure, transientFailure } from '../failures';
import { sleep } from '../poll-until';
import type { RunRecordDeps } from './recorded-failover';
import type { StartUseActivities } from './start-use-contracts';
import { runStartedEvent } from './run-started-event';

/** How long the lookup waits for visibility to list the run asking (it lists earlier runs by then). */
const OWN_LISTING_WAIT_MS = 10_000;
/**
 * The listing is asked again after 10 ms, then 1.5 times later each time up to 200 ms: the dev server's SQLite
 * visibility lists a run within a few ms of its start and every ms waited here delays the run's first step;
 * Elasticsearch visibility lists it only after its index refresh (1 s by default), asked about a dozen times.
 */
const LISTING_POLL = { firstMs: 10, factor: 1.5, maxMs: 200 };
const NONCE_READS_AT_ONCE = 8;
/** Runs whose start nonce a worker remembers: the runs under one id in a statement's lifetime, many times over. */
const REMEMBERED_RUNS = 10_000;
/**
 * The most earlier runs a lookup reads. Runs under one id hold one runbook's lock in turn, a second or more each:
 * in a statement's window (7 minutes) a few hundred at the very most. More were started by someone else to make
 * every start read them all (a history read each, a KMS Decrypt for those copying drctl's ciphertext): the start
 * is refused, not checked in part.
 */
export const MAX_EARLIER_RUNS_READ = 1_000;
/** How long before a statement's signing time a run that used it may have started: its lifetime and the skews. */
const LOOKBACK_MS = STATEMENT_MAX_AGE_MS + 2 * STATEMENT_MAX_SKEW_MS;

/**
 * A start statement is signed before its run exists, so it names the workflow id, not the run; runs of one
 * runbook share that id (its lock). The run's own nonce check covers one run only, so the worker looks for the
 * statement in the other runs of the same type under the id that could have used it: those started no earlier
 * than the statement's oldest accepted signing time, less the clock skew allowed either way.
 *
 * Visibility is written asynchronously: the lookup first waits until it lists the run asking, whose record was
 * queued after any earlier run's under the id, so a run started a moment earlier (one a client ended by starting
 * this one with TERMINATE_EXISTING) is listed too in practice. Temporal does not promise that order.
 */
export function createStartUseActivities(deps: RunRecordDeps | undefined): StartUseActivities {
  // A run's first event never changes: a worker reads each run's nonce once, not again at every later start under
  // the id (runs of one runbook in quick succession: drills, retried failovers, a benchmark's dozens). Only what a
  // read answered for good is kept: a decoded input, or one no drctl client wrote; never a run not found (history
  // and visibility may disagree for a while), a payload under a key not (yet) this deployment's, nor a read that
  // failed.
  const nonceOfRun = new LRUCache<string, { nonce: string | undefined }>({ max: REMEMBERED_RUNS });
  const startNonce = async (
    temporal: Client,
    workflowId: string,
    runId: string,
  ): Promise<string | undefined> => {
    const key = `${workflowId}\n${runId}`;
    const remembered = nonceOfRun.get(key);
    if (remembered) return remembered.nonce;
    const { nonce, lasting } = await startNonceOf(temporal, workflowId, runId);
    if (lasting) nonceOfRun.set(key, { nonce });
    return nonce;
  };
  return {
    findEarlierStartUse: async ({ workflowId, workflowType, runId, nonce, signedAt }) => {
      if (!deps)
        throw permanentFailure(
          PermanentFailure.ConfigurationMissing,
          'this worker has no Temporal client for checking that a signed start was not used by an earlier run; it is built by the worker (worker/run-worker.ts)',
        );
      // The nonce as claimed, before the statement is verified: a verified one always has this form.
      if (!STATEMENT_NONCE.test(nonce))
        throw permanentFailure(
          PermanentFailure.NotAuthorized,
          `the start cannot be checked against earlier runs: its statement's nonce must be 32 to 128 hex digits (got ${JSON.stringify(nonce.slice(0, 40))})`,
        );
      const signedMs = Date.parse(signedAt);
      if (!QUERYABLE_WORKFLOW_ID.test(workflowId) || !/^\w+$/.test(workflowType) || Number.isNaN(signedMs))
        throw permanentFailure(
          PermanentFailure.NotAuthorized,
          `the start cannot be checked against earlier runs: the workflow id must be letters, digits and . _ : @ -, and the statement's time a date (got ${JSON.stringify(workflowId)}, ${JSON.stringify(signedAt)})`,
        );
      const since = new Date(signedMs - LOOKBACK_MS).toISOString();
      const { temporal } = deps;
      const query = `WorkflowId = '${workflowId}' AND WorkflowType = '${workflowType}' AND StartTime >= '${since}'`;
      const others = await othersOnceListed(temporal, query, runId);
      // A few at a time, stopping at the first use: copies a client piled up under the id must not fan out.
      for (let first = 0; first < others.length; first += NONCE_READS_AT_ONCE) {
        const batch = others.slice(first, first + NONCE_READS_AT_ONCE);
        const nonces = await Promise.all(batch.map((other) => startNonce(temporal, workflowId, other.runId)));
        const usedBy = batch.find((_, index) => nonces[index] === nonce);
        if (usedBy !== undefined)
          return { usedBy: { runId: usedBy.runId, startedAt: usedBy.startTime.toISOString() } };
      }
      return {};
    },
  };
}

/** The runs the query lists besides `runId`, once it lists `runId` itself. */
async function othersOnceListed(
  temporal: Client,
  query: string,
  runId: string,
): Promise<Array<{ runId: string; startTime: Date }>> {
  const deadline = Date.now() + OWN_LISTING_WAIT_MS;
  for (
    let waitMs = LISTING_POLL.firstMs;
    ;
    waitMs = Math.min(waitMs * LISTING_POLL.factor, LISTING_POLL.maxMs)
  ) {
    const listed: Array<{ runId: string; startTime: Date }> = [];
    for await (const execution of temporal.workflow.list({ query })) {
      listed.push({ runId: execution.runId, startTime: execution.startTime });
      if (listed.length > MAX_EARLIER_RUNS_READ + 1) throw tooManyRuns(query);
    }
    if (listed.some((execution) => execution.runId === runId))
      return listed.filter((execution) => execution.runId !== runId);
    if (Date.now() > deadline)
      throw transientFailure(
        'VisibilityBehind',
        `Temporal's visibility does not list this run after ${OWN_LISTING_WAIT_MS / 1000} s, so earlier runs under its id cannot be checked yet`,
      );
    // Jittered, so lookups started together (an evacuation's services) do not list in step.
    await sleep(waitMs * (0.8 + Math.random() * 0.4));
  }
}

function tooManyRuns(query: string) {
  return permanentFailure(
    PermanentFailure.NotAuthorized,
    `more than ${MAX_EARLIER_RUNS_READ} runs match ${query}, far more than drctl starts under one runbook's lock in a statement's lifetime: someone else likely started them. Find them with \`temporal workflow list --query "${query}"\` (with your --namespace), and delete those no operator started (\`temporal workflow delete\`), or sign a new start once they are more than ${Math.round(LOOKBACK_MS / 60_000)} minutes older than it`,
  );
}

/** The nonce a run's start names (undefined: none a verified statement could have), and whether it is for good. */
interface StartNonce {
  nonce: string | undefined;
  lasting: boolean;
}

const NO_START: StartNonce = { nonce: undefined, lasting: true };

/**
 * The nonce of the start statement a run began with: its first argument, decoded (it is encrypted). A run whose
 * input is not a drctl start (another client's workflow under the id, a payload under a key that is not this
 * deployment's, altered or junk ciphertext) used no statement, whatever it holds: only its first payload is read,
 * and a key it names is asked about only when it is drctl's. A read that fails otherwise (KMS throttled or
 * unreachable, drctl's own key disabled) fails the lookup, to be retried: taken as "no statement", it would let a
 * replayed statement through.
 */
async function startNonceOf(temporal: Client, workflowId: string, runId: string): Promise<StartNonce> {
  const started = await runStartedEvent(temporal, workflowId, runId);
  // A run deleted since it was listed started nothing any more.
  if (started === undefined) return { nonce: undefined, lasting: false };
  const first = started.input?.payloads?.[0];
  if (!first) return NO_START;
  try {
    const keyId = encryptionKeyOf(first);
    // Not remembered: a key not this deployment's now may be soon (an alias moved, a key added to the keyring),
    // and a run written under it by an honest client must count then.
    if (keyId !== undefined && !(await isOwnKey(temporal, keyId)))
      return { nonce: undefined, lasting: false };
    const input = await decodeFromPayloadsAtIndex<
      { start?: { statement?: { nonce?: unknown } } } | undefined
    >(temporal.options.loadedDataConverter, 0, [first]);
    const nonce = input?.start?.statement?.nonce;
    return {
      nonce: typeof nonce === 'string' && STATEMENT_NONCE.test(nonce) ? nonce : undefined,
      lasting: true,
    };
  } catch (error) {
    if (isNoDrctlStart(error)) return NO_START;
    throw transientFailure(
      'StartUnreadable',
      `the start of run ${runId} of ${workflowId} cannot be read now (${innermostMessage(error)}), so whether it used this statement is not known yet`,
    );
  }
}

/** Whether this worker's codec takes `keyId` for one of this deployment's keys (without a codec, none is). */
async function isOwnKey(temporal: Client, keyId: string): Promise<boolean> {
  const codec = temporal.options.loadedDataConverter.payloadCodecs.find(
    (candidate): candidate is EncryptionCodec => candidate instanceof EncryptionCodec,
  );
  return codec !== undefined && (await codec.isOwnKey(keyId));
}

/** Whether a decode failure says the payload holds no drctl start: altered, or not what drctl's converter writes. */
function isNoDrctlStart(error: unknown): boolean {
  if (error instanceof CodecError)
    return error.code === 'PayloadTampered' || error.code === 'PayloadMalformed';
  return error instanceof ValueError || error instanceof SyntaxError;
}
