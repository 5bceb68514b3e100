import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { PUBLIC_KEY_PREFIX } from '../public-key-prefix';
import type { SignedStatement } from '../signature';
import { canonicalStatement, type OperatorStatement } from '../statement';

/**
 * Ed25519 key pairs and signatures with Node's own crypto, for the process that holds an operator's private key
 * (the CLI). Verification stays in `auth/signature.ts` (pure JS: workflow code has no Node crypto); Ed25519 is
 * the same curve and encoding on both sides (RFC 8032). Signing natively spares every signed command loading
 * the pure-JS curve and its first scalar multiplication (about 130 ms of a cold start).
 */

/** PKCS #8 DER of an Ed25519 private key up to its 32-byte seed (RFC 8410, section 7). */
const PKCS8_ED25519_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const PRIVATE_KEY = /^[0-9a-f]{64}$/;

/** A private key as key files hold it: the 32-byte seed as 64 lower-case hex digits. */
export function isPrivateKey(value: unknown): value is string {
  return typeof value === 'string' && PRIVATE_KEY.test(value);
}

/** A new key pair; the private key as 64 hex digits (it never leaves the operator's key file). */
export function generateKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKey: der.subarray(PKCS8_ED25519_SEED_PREFIX.length).toString('hex'),
    publicKey: nativePublicKeyOf(privateKey),
  };
}

/** The key object of a private key given as 64 hex digits (the key file's `privateKey`). */
export function ed25519PrivateKey(privateKeyHex: string): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_SEED_PREFIX, Buffer.from(privateKeyHex, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** `ed25519:` and the 64 hex digits of the public key that belongs to `key`. */
export function nativePublicKeyOf(key: KeyObject): string {
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  return `${PUBLIC_KEY_PREFIX}${Buffer.from(x ?? '', 'base64url').toString('hex')}`;
}

/** Signs the canonical form of `statement`; `signatureIsValid` (auth/signature.ts) verifies it. */
export function signStatement(statement: OperatorStatement, privateKey: string | KeyObject): SignedStatement {
  const key = typeof privateKey === 'string' ? ed25519PrivateKey(privateKey) : privateKey;
  const signature = sign(null, Buffer.from(canonicalStatement(statement), 'utf8'), key).toString('hex');
  return { statement, publicKey: nativePublicKeyOf(key), signature };
}
