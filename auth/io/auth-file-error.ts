/**
 * A key file, access policy or runbook catalog that cannot be used. The message names the file and the field
 * and says what to do; the CLI and the worker exit 3 (environment) on it, with nothing started.
 */
export class AuthFileError extends Error {
  constructor(
    readonly code: 'KeyFileMissing' | 'KeyFileInvalid' | 'KeyFileExists' | 'PolicyInvalid' | 'CatalogInvalid',
    readonly file: string,
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'AuthFileError';
  }
}
