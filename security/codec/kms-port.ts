/** The two AWS KMS calls envelope encryption needs, over a key's id, ARN or alias. */
export interface KmsPort {
  /** GenerateDataKey (AES_256): the key's ARN, the data key, and the data key wrapped under the key. */
  generateDataKey(
    keyId: string,
    context: Record<string, string>,
  ): Promise<{ keyArn: string; plaintext: Uint8Array; wrapped: Uint8Array }>;
  /** Decrypt of a wrapped data key; refuses when `keyArn` is not the key that wrapped it. */
  decrypt(keyArn: string, wrapped: Uint8Array, context: Record<string, string>): Promise<Uint8Array>;
}
