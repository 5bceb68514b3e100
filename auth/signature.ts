import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { PUBLIC_KEY_PREFIX } from './public-key-prefix';
import { canonicalStatement, type OperatorStatement } from './statement';

/** A statement with its Ed25519 signature and the public key that made it, as it travels and is recorded. */
export interface SignedStatement {
  statement: OperatorStatement;
  /** `ed25519:` and 64 hex digits. */
  publicKey: string;
  /** 128 hex digits: the Ed25519 signature over canonicalStatement(statement). */
  signature: string;
}

export { PUBLIC_KEY_PREFIX };

// Verification multiplies the base point through a lazily built table. noble's default 8-bit window takes ~60 ms
// to build (measured ~90 ms inside the workflow sandbox), and a worker builds it again for every workflow run that
// verifies a signature: each start paid it. A 4-bit window builds in ~10 ms; a verify then takes a few ms longer.
ed25519.Point.BASE.precompute(4);
const PUBLIC_KEY = /^ed25519:[0-9a-f]{64}$/;
const SIGNATURE = /^[0-9a-f]{128}$/;

export function isPublicKey(value: unknown): boolean {
  if (typeof value !== 'string' || !PUBLIC_KEY.test(value)) return false;
  try {
    ed25519.ExtendedPoint.fromHex(value.slice(PUBLIC_KEY_PREFIX.length));
    return true;
  } catch {
    return false;
  }
}

/** True only when `signature` is a valid Ed25519 signature by `publicKey` over the canonical statement. */
export function signatureIsValid(signed: SignedStatement): boolean {
  if (
    typeof signed.publicKey !== 'string' ||
    !isPublicKey(signed.publicKey) ||
    typeof signed.signature !== 'string' ||
    !SIGNATURE.test(signed.signature)
  )
    return false;
  try {
    return ed25519.verify(
      hexToBytes(signed.signature),
      utf8ToBytes(canonicalStatement(signed.statement)),
      hexToBytes(signed.publicKey.slice(PUBLIC_KEY_PREFIX.length)),
    );
  } catch {
    return false;
  }
}

/** `ed25519:1a2b3c4d…` for messages: enough to tell keys apart, short enough to read. */
export function shortKey(publicKey: string): string {
  return publicKey.length > 24 ? `${publicKey.slice(0, 24)}…` : publicKey;
}
