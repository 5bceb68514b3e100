/** Why a payload could not be encrypted or decrypted; the message names the key and what to do. */
export class CodecError extends Error {
  constructor(
    readonly code:
      'KeyUnavailable' | 'KeyringInvalid' | 'PayloadTampered' | 'PayloadMalformed' | 'CodecMisconfigured',
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}
