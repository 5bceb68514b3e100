/**
 * Signed manifests as DSSE envelopes (the in-toto "Dead Simple Signing Envelope"): the signature covers the
 * exact payload bytes through DSSE's pre-authentication encoding, so no JSON canonicalisation is needed and a
 * verifier years later checks the very bytes that were signed. Ed25519 through Node's crypto.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.drctl.evidence-manifest+json';

export interface DsseSignature {
  /** sha256 (hex) of the signing key's public key in SPKI DER form. */
  keyid: string;
  /** base64 Ed25519 signature over PAE(payloadType, payload). */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/** DSSE v1 pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
function preAuthenticationEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/** The id a manifest names its signing key by: sha256 of the public key (SPKI DER), hex. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signEnvelope(payload: Buffer, privateKey: KeyObject): DsseEnvelope {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `the evidence key is ${privateKey.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519: generate one with \`openssl genpkey -algorithm ed25519\``,
    );
  }
  const signature = sign(null, preAuthenticationEncoding(MANIFEST_PAYLOAD_TYPE, payload), privateKey);
  return {
    payloadType: MANIFEST_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(privateKey), sig: signature.toString('base64') }],
  };
}

export type SignatureCheck = { ok: true; keyId: string } | { ok: false; reason: string };

/** Checks an envelope against the trusted public keys: one signature by a trusted key must verify. */
export function checkEnvelopeSignature(
  envelope: DsseEnvelope,
  trustedKeys: readonly KeyObject[],
): SignatureCheck {
  if (envelope.payloadType !== MANIFEST_PAYLOAD_TYPE) {
    return { ok: false, reason: `payload type is "${envelope.payloadType}", not ${MANIFEST_PAYLOAD_TYPE}` };
  }
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length === 0) {
    return { ok: false, reason: 'the envelope carries no signature' };
  }
  const byId = new Map(trustedKeys.map((key) => [keyIdOf(key), key]));
  const pae = preAuthenticationEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  const unknown: string[] = [];
  for (const signature of envelope.signatures) {
    const key = byId.get(signature.keyid);
    if (!key) {
      unknown.push(signature.keyid);
      continue;
    }
    if (verify(null, pae, key, Buffer.from(signature.sig, 'base64')))
      return { ok: true, keyId: signature.keyid };
    return {
      ok: false,
      reason: `the signature by key ${signature.keyid.slice(0, 16)}… does not verify: the manifest was changed after signing`,
    };
  }
  return {
    ok: false,
    reason: `signed only by unknown key(s) ${unknown.map((id) => `${id.slice(0, 16)}…`).join(', ')}; trusted: ${
      [...byId.keys()].map((id) => `${id.slice(0, 16)}…`).join(', ') || 'none'
    }`,
  };
}

/** Parses stored manifest bytes as an envelope, or says why they are not one. */
export function parseEnvelope(bytes: Buffer): DsseEnvelope | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  const candidate = parsed as Partial<DsseEnvelope> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.payloadType !== 'string' ||
    typeof candidate.payload !== 'string' ||
    !Array.isArray(candidate.signatures)
  ) {
    return { error: 'not a DSSE envelope (payloadType, payload, signatures)' };
  }
  return candidate as DsseEnvelope;
}
