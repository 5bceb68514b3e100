/** What a run asks the worker about the run that started it. Types only: workflow code imports this file. */

export interface RunStartRequest {
  workflowId: string;
  runId: string;
}

/** How Temporal recorded a run's start (its first history event), which no client can rewrite. */
export interface RunStart {
  workflowType: string;
  taskQueue: string;
}

export interface RunStartActivities {
  /** Reads a run's start: refuses (NotAuthorized) a run Temporal does not know. */
  readRunStart(request: RunStartRequest): Promise<RunStart>;
}
