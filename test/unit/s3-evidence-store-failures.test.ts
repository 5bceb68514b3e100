import type { S3Client } from '@aws-sdk/client-s3';
import type { ApplicationFailure } from '@temporalio/common';
import { createS3EvidenceStore } from '../../activities/evidence/s3-evidence-store';

/** An S3 client that answers every request with this error, as the SDK raises it (name, HTTP status). */
function refusingS3(name: string, status: number, message = `${name} from S3`): S3Client {
  return {
    send: async () => {
      throw Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
    },
  } as unknown as S3Client;
}

async function putFailure(s3: S3Client, kmsKeyId?: string): Promise<ApplicationFailure> {
  const store = createS3EvidenceStore(s3, 'evidence', kmsKeyId === undefined ? {} : { kmsKeyId });
  return store
    .put('runs/r/1/manifest.json', Buffer.from('{}'), {
      sha256Hex: '0'.repeat(64),
      contentType: 'application/json',
      lockMode: 'COMPLIANCE',
      retainUntil: new Date('2032-12-02T00:00:00Z'),
    })
    .then(
      () => {
        throw new Error('the put succeeded');
      },
      (error: ApplicationFailure) => error,
    );
}

/**
 * How the evidence store names S3's refusals, which decides what the ledger does: ConfigurationMissing keeps the
 * run queued (every run would fail the same way until the settings are fixed), InvalidState drops it (this run's
 * bundle can never be written), a retryable failure is retried.
 */
describe('evidence store: S3 refusals', () => {
  it('GIVEN KMS refuses the evidence key THEN a configuration fault naming the key and the setting', async () => {
    const failure = await putFailure(refusingS3('KMS.DisabledException', 400), 'alias/evidence');
    expect({ type: failure.type, nonRetryable: failure.nonRetryable }).toEqual({
      type: 'ConfigurationMissing',
      nonRetryable: true,
    });
    expect(failure.message).toMatch(
      /^S3 could not use a KMS key for PutObject .*KMS\.DisabledException.*DRCTL_EVIDENCE_KMS_KEY_ID alias\/evidence/,
    );
  });

  it('GIVEN a bucket without Object Lock THEN a configuration fault (the run stays queued)', async () => {
    const failure = await putFailure(
      refusingS3('InvalidRequest', 400, 'Bucket is missing Object Lock Configuration'),
    );
    expect(failure.type).toBe('ConfigurationMissing');
    expect(failure.message).toContain('must be versioned with Object Lock enabled');
  });

  it("GIVEN a key too long for S3 THEN this run's bundle cannot be written: dropped, not queued for ever (before: ConfigurationMissing)", async () => {
    const failure = await putFailure(refusingS3('KeyTooLongError', 400));
    expect(failure.type).toBe('InvalidState');
    expect(failure.message).toContain("this run's bundle cannot be written as it is");
  });

  it('GIVEN S3 asks for the request again THEN it is retried (before: a non-retryable configuration fault)', async () => {
    const failure = await putFailure(refusingS3('RequestTimeout', 400));
    expect({ type: failure.type, nonRetryable: failure.nonRetryable }).toEqual({
      type: 'RequestTimeout',
      nonRetryable: false,
    });
  });
});
