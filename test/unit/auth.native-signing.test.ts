import { ed25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import {
  ed25519PrivateKey,
  generateKeyPair,
  nativePublicKeyOf,
  signStatement,
} from '../../auth/io/native-ed25519';
import { signatureIsValid } from '../../auth/signature';
import { canonicalStatement } from '../../auth/statement';
import { statement } from './auth-fixtures';

/** RFC 8032, section 7.1, TEST 1: the secret key, its public key and the signature of the empty message. */
const RFC8032_TEST_1 = {
  secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
};

describe('native Ed25519 signing (the CLI side)', () => {
  it('GIVEN the RFC 8032 test key WHEN its public key is derived natively THEN it is the RFC value', () => {
    expect(nativePublicKeyOf(ed25519PrivateKey(RFC8032_TEST_1.secret))).toBe(
      `ed25519:${RFC8032_TEST_1.publicKey}`,
    );
  });

  it('GIVEN a new key pair WHEN a statement is signed natively THEN the pure-JS verifier the workflows use accepts it and it is the pure-JS signature byte for byte', () => {
    const { privateKey, publicKey } = generateKeyPair();
    expect(privateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(publicKey).toBe(`ed25519:${bytesToHex(ed25519.getPublicKey(hexToBytes(privateKey)))}`);
    const signed = signStatement(statement({ reason: 'INC-4411 ünïcode ✓' }), privateKey);
    expect(signed.publicKey).toBe(publicKey);
    expect(signatureIsValid(signed)).toBe(true);
    const pureJs = ed25519.sign(utf8ToBytes(canonicalStatement(signed.statement)), hexToBytes(privateKey));
    expect(signed.signature).toBe(bytesToHex(pureJs));
  });

  it('GIVEN a natively signed statement WHEN one field changes THEN the verifier refuses it', () => {
    const { privateKey } = generateKeyPair();
    const signed = signStatement(statement(), privateKey);
    expect(signatureIsValid({ ...signed, statement: { ...signed.statement, reason: 'other' } })).toBe(false);
  });
});
