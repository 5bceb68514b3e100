/** A sandbox failure with a code, so callers can tell a slow server from a broken install. */
export type SandboxErrorCode =
  'NotReady' | 'CommandFailed' | 'PortTaken' | 'MissingTool' | 'SeedFailed' | 'Busy' | 'InvalidState';

export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}
