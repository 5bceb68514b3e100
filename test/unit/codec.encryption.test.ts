import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecError } from '../../security/codec/codec-error';
import { EncryptionCodec, METADATA_DATA_KEY, METADATA_KEY_ID } from '../../security/codec/encryption-codec';
import { createKeyringKeySource } from '../../security/codec/keyring-key-source';

/** A keyring file (0600) holding the given keys (id → base64), `current` making new data keys. */
function writeKeyring(path: string, current: string, keys: Record<string, string>): void {
  writeFileSync(path, JSON.stringify({ current, keys }), { mode: 0o600 });
  chmodSync(path, 0o600);
}

const key = () => randomBytes(32).toString('base64');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drctl-codec-'));
});

test('GIVEN a keyring codec WHEN a value is encoded THEN neither data nor metadata hold it, and decoding restores it', async () => {
  const path = join(dir, 'keyring.json');
  writeKeyring(path, 'k1', { k1: key() });
  const codec = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });
  const value = { reason: 'INC-4411 us-east-1 outage', connection: 'ehr-primary' };

  const [encoded] = await codec.encode([toPayload(value)]);

  const stored = Buffer.concat([encoded!.data!, ...Object.values(encoded!.metadata!)]);
  expect(stored.includes('INC-4411')).toBe(false);
  expect(stored.includes('ehr-primary')).toBe(false);
  expect(stored.includes('json/plain')).toBe(false);
  expect(text(encoded!.metadata!.encoding)).toBe('binary/encrypted');
  expect(text(encoded!.metadata![METADATA_KEY_ID])).toBe('keyring:k1');
  const [decoded] = await codec.decode([encoded!]);
  expect(fromPayload(decoded!)).toEqual(value);
});

test('GIVEN payloads written under key A WHEN the keyring rotates to B THEN new payloads use B and both old and new decode', async () => {
  const path = join(dir, 'keyring.json');
  const a = key();
  writeKeyring(path, 'A', { A: a });
  const before = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });
  const [old] = await before.encode([toPayload('written under A')]);

  writeKeyring(path, 'B', { A: a, B: key() });
  // A fresh process (worker restart) and the long-running one (its next data key) both follow the rotation.
  const fresh = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });
  const [next] = await fresh.encode([toPayload('written under B')]);

  expect(text(old!.metadata![METADATA_KEY_ID])).toBe('keyring:A');
  expect(text(next!.metadata![METADATA_KEY_ID])).toBe('keyring:B');
  const decoded = await fresh.decode([old!, next!]);
  expect(decoded.map(fromPayload)).toEqual(['written under A', 'written under B']);
  expect((await before.decode([next!])).map(fromPayload)).toEqual(['written under B']);
});

test('GIVEN a rotation that dropped the old key WHEN old history is decoded THEN the error names the missing key and what to do', async () => {
  const path = join(dir, 'keyring.json');
  writeKeyring(path, 'A', { A: key() });
  const [old] = await new EncryptionCodec({ encryptWith: createKeyringKeySource(path) }).encode([
    toPayload('x'),
  ]);
  writeKeyring(path, 'B', { B: key() });

  const error = await new EncryptionCodec({ encryptWith: createKeyringKeySource(path) })
    .decode([old!])
    .catch((e: unknown) => e);

  expect(error).toBeInstanceOf(CodecError);
  expect((error as CodecError).message).toMatch(/keyring key "A".*no longer holds.*put that key back/);
});

test('GIVEN an encrypted payload WHEN its data or its key id metadata is altered THEN decoding refuses it', async () => {
  const path = join(dir, 'keyring.json');
  writeKeyring(path, 'A', { A: key(), B: key() });
  const codec = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });
  const [encoded] = await codec.encode([toPayload('approved by alice')]);

  const flipped = Buffer.from(encoded!.data!);
  flipped[20] = flipped[20]! ^ 1;
  const otherKey = { ...encoded!.metadata!, [METADATA_KEY_ID]: Buffer.from('keyring:B') };

  await expect(codec.decode([{ ...encoded!, data: flipped }])).rejects.toMatchObject({
    code: 'PayloadTampered',
  });
  await expect(codec.decode([{ ...encoded!, metadata: otherKey }])).rejects.toMatchObject({
    code: 'PayloadTampered',
  });
});

test('GIVEN history from before the codec was on WHEN it is decoded THEN plain payloads pass through unchanged', async () => {
  const path = join(dir, 'keyring.json');
  writeKeyring(path, 'A', { A: key() });
  const codec = new EncryptionCodec({ encryptWith: createKeyringKeySource(path) });

  const [decoded] = await codec.decode([toPayload({ plain: true })]);

  expect(fromPayload(decoded!)).toEqual({ plain: true });
});

test('GIVEN a data key used up to its bound WHEN more payloads are encoded THEN a new data key is made; likewise after its age', async () => {
  const path = join(dir, 'keyring.json');
  writeKeyring(path, 'A', { A: key() });
  let now = 0;
  const codec = new EncryptionCodec({
    encryptWith: createKeyringKeySource(path),
    dataKeyMaxUses: 3,
    dataKeyMaxAgeMs: 1000,
    now: () => now,
  });
  const dataKeyOf = (payload: Payload | undefined) =>
    Buffer.from(payload!.metadata![METADATA_DATA_KEY]!).toString('hex');

  const first = await codec.encode(['a', 'b', 'c', 'd'].map(toPayload));
  now = 999;
  const [stillFourth] = await codec.encode([toPayload('e')]);
  now = 2000;
  const [afterAge] = await codec.encode([toPayload('f')]);

  const keys = first.map(dataKeyOf);
  expect(new Set(keys.slice(0, 3)).size).toBe(1);
  expect(keys[3]).not.toBe(keys[0]);
  expect(dataKeyOf(stillFourth)).toBe(keys[3]);
  expect(dataKeyOf(afterAge)).not.toBe(keys[3]);
  expect((await codec.decode([...first, stillFourth!, afterAge!])).map(fromPayload)).toEqual([
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
  ]);
});

test('GIVEN a keyring readable by others, or a current key it does not hold THEN the codec refuses it, saying how to fix it', () => {
  const open = join(dir, 'open.json');
  writeFileSync(open, JSON.stringify({ current: 'A', keys: { A: key() } }), { mode: 0o644 });
  chmodSync(open, 0o644);
  const wrongCurrent = join(dir, 'wrong.json');
  writeKeyring(wrongCurrent, 'C', { A: key() });
  const shortKey = join(dir, 'short.json');
  writeKeyring(shortKey, 'A', { A: randomBytes(16).toString('base64') });

  expect(() => createKeyringKeySource(open)).toThrow(/readable by others.*chmod 600/);
  expect(() => createKeyringKeySource(wrongCurrent)).toThrow(/"current" must name one of its keys \(A\)/);
  expect(() => createKeyringKeySource(shortKey)).toThrow(/keys\.A must .*32 random bytes/);
});
