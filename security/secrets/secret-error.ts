/** A secret that cannot be had; the message names the secret and what to do, never its value. */
export class SecretError extends Error {
  constructor(
    readonly code: 'SecretNotFound' | 'SecretAccessDenied' | 'SecretInvalid',
    readonly secretName: string,
    message: string,
  ) {
    super(message);
    this.name = 'SecretError';
  }
}
