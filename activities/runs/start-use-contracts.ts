/** What a run asks the worker about its signed start before it accepts it. Types only: workflow code imports it. */

export interface StartUseRequest {
  /** The run's workflow id (a runbook's runs share it: its lock) and its own run id, which is not counted. */
  workflowId: string;
  runId: string;
  /** The run's workflow type: only runs of this type are looked through. */
  workflowType: string;
  /** The start statement's nonce and signing time (ISO), as claimed: the answer is used only once it verifies. */
  nonce: string;
  signedAt: string;
}

export interface StartUseAnswer {
  /** An earlier run under the same workflow id that started on the same statement. */
  usedBy?: { runId: string; startedAt: string };
}

export interface StartUseActivities {
  /**
   * Looks through the runs under the workflow id that started after the statement could have been signed (at most
   * the statement's age plus the clock skew allowed) for one that started on the same statement (its nonce).
   */
  findEarlierStartUse(request: StartUseRequest): Promise<StartUseAnswer>;
}
