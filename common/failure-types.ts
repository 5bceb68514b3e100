/**
 * The closed list of permanent failure types. Pure data, so workflow code can name them in retry policies
 * without importing anything that does I/O.
 */
export const PermanentFailure = {
  NotFound: 'NotFound',
  ReplicaNotFound: 'ReplicaNotFound',
  ReplicaLagTooHigh: 'ReplicaLagTooHigh',
  ReplicaUnhealthy: 'ReplicaUnhealthy',
  AccessDenied: 'AccessDenied',
  InvalidState: 'InvalidState',
  ConfigurationMissing: 'ConfigurationMissing',
  BackupCheckFailed: 'BackupCheckFailed',
  PreflightFailed: 'PreflightFailed',
  ProbeFailed: 'ProbeFailed',
  FlagNotConfirmed: 'FlagNotConfirmed',
  UnsafeOrder: 'UnsafeOrder',
  /** The replica did not replay the fenced primary's last WAL within maxLag: promoting now would lose writes. */
  ReplicaNotCaughtUp: 'ReplicaNotCaughtUp',
  /** Replication lag could not be measured and the runbook does not accept unknown lag (or no one approved it). */
  ReplicationLagUnknown: 'ReplicationLagUnknown',
  /** A planned runbook needs the old primary reachable (to fence it and promote without loss); it is not. */
  PrimaryUnreachable: 'PrimaryUnreachable',
  /** The client's runbook hash differs from the worker's reviewed catalog. */
  RunbookMismatch: 'RunbookMismatch',
  /** A signed operator action the access policy refuses (signature, key, permission, freshness). */
  NotAuthorized: 'NotAuthorized',
  /**
   * Another run holds the lock of a runbook this run needs (a failover, failback, drill or evacuation of it is
   * open): refused before it changed anything; the message names the runbook and the run holding it.
   */
  RunbookBusy: 'RunbookBusy',
  /** A failback found no ended failover of its runbook whose record says what to restore. */
  NoRecordedFailover: 'NoRecordedFailover',
  /**
   * The state a step read ahead (while the step before it ran) moved before its effect: the effect refused and
   * changed nothing; the step reads again and records the new state as its undo.
   */
  ChangedSinceRead: 'ChangedSinceRead',
  /**
   * Like ChangedSinceRead, for an effect made in parts (a DNS switch of more records than one change batch holds):
   * the parts before the refused one were made, the others not; the failure's details say which were made.
   */
  PartlySwitched: 'PartlySwitched',
  /** A TLS peer whose certificate does not verify (unknown CA, another host name, expired): a retry cannot fix it. */
  TlsVerificationFailed: 'TlsVerificationFailed',
} as const;

export type PermanentFailureType = (typeof PermanentFailure)[keyof typeof PermanentFailure];

export const PERMANENT_FAILURE_TYPES: string[] = Object.values(PermanentFailure);

/**
 * Retryable: every call to an AWS Region failed to connect, timed out or answered 5xx (after the SDK's own retries).
 * Steps that need that Region report it (the fence outcome says `unreachable: 'region'`) instead of hanging.
 */
export const REGION_UNREACHABLE = 'RegionUnreachable';
