import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ExitCode } from '../../cli/cli-error';
import { toCliError } from '../../cli/to-cli-error';
import { EncryptionCodec } from '../../security/codec/encryption-codec';
import { createKeyringKeySource } from '../../security/codec/keyring-key-source';

/**
 * A CLI whose codec is off reads history a worker encrypted: the SDK's payload converter meets an encoding it does
 * not know. That is the configuration (exit 3, turn the codec on), not an unexpected failure.
 */
async function encryptedPayload(): Promise<Payload> {
  const keyring = join(mkdtempSync(join(tmpdir(), 'drctl-codec-off-')), 'keyring.json');
  writeFileSync(keyring, JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }));
  chmodSync(keyring, 0o600);
  const codec = new EncryptionCodec({ encryptWith: createKeyringKeySource(keyring) });
  const [encoded] = await codec.encode([defaultPayloadConverter.toPayload({ runbook: 'ehr-db' })]);
  return encoded!;
}

/** What the codec-less converter throws for `payload`. */
function decodeError(payload: Payload): unknown {
  try {
    defaultPayloadConverter.fromPayload(payload);
  } catch (error) {
    return error;
  }
  throw new Error('decoded');
}

test('GIVEN history encrypted by the codec WHEN read with the codec off THEN exit 3 (configuration), saying the history is encrypted and which settings turn the codec on (before: Unexpected, "Unknown encoding: binary/encrypted", exit 1)', async () => {
  const error = toCliError(decodeError(await encryptedPayload()));
  expect({ code: error.code, exitCode: error.exitCode }).toEqual({
    code: 'CodecMisconfigured',
    exitCode: ExitCode.Environment,
  });
  expect(error.message).toMatch(/history is encrypted by drctl's payload codec, which is off here/);
  for (const setting of ['codec.enabled', 'DRCTL_CODEC=on', 'codec.kmsKeyId', 'codec.keyringFile'])
    expect(error.message).toContain(setting);
});

test('GIVEN the encrypted payload met inside another error WHEN classified THEN the same configuration error', async () => {
  const wrapped = new Error('Failed to decode memo', { cause: decodeError(await encryptedPayload()) });
  expect(toCliError(wrapped)).toMatchObject({ code: 'CodecMisconfigured', exitCode: ExitCode.Environment });
});

test('GIVEN a payload in an encoding that is not the codec’s WHEN classified THEN still unexpected (exit 1): turning the codec on would not help', () => {
  const error = toCliError(
    decodeError({ metadata: { encoding: Buffer.from('binary/zstd') }, data: Buffer.from('x') }),
  );
  expect(error).toMatchObject({
    code: 'Unexpected',
    exitCode: ExitCode.Failed,
    message: 'Unknown encoding: binary/zstd',
  });
});
