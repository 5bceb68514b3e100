import { kmsCallsFor } from '../../security/codec/data-converter';

/** KMS is regional: where the codec calls it for a key a payload names (or the key it encrypts under). */
describe('kmsCallsFor', () => {
  test('GIVEN a key ARN in another region WHEN called THEN in the region the ARN names', () => {
    const arn = 'arn:aws:kms:us-west-2:123456789012:key/1ba8773d-65fb-4fe0-a1db-a8248bea4c9e';
    expect(kmsCallsFor(arn, 'us-east-1')).toEqual([{ region: 'us-west-2', key: arn }]);
  });

  test('GIVEN a multi-Region key homed elsewhere WHEN called THEN its replica in this region first, then its home', () => {
    // So history stays readable from the DR region while the key's home region is down.
    const arn = 'arn:aws:kms:us-east-1:123456789012:key/mrk-5cd3c18c67af471c87996bb78424fc05';
    expect(kmsCallsFor(arn, 'us-west-2')).toEqual([
      {
        region: 'us-west-2',
        key: 'arn:aws:kms:us-west-2:123456789012:key/mrk-5cd3c18c67af471c87996bb78424fc05',
      },
      { region: 'us-east-1', key: arn },
    ]);
    expect(kmsCallsFor(arn, 'us-east-1')).toEqual([{ region: 'us-east-1', key: arn }]);
  });

  test('GIVEN an alias or a bare key id WHEN called THEN in this region, as given; other partitions keep theirs', () => {
    expect(kmsCallsFor('alias/drctl-codec', 'eu-west-1')).toEqual([
      { region: 'eu-west-1', key: 'alias/drctl-codec' },
    ]);
    const govArn = 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1';
    expect(kmsCallsFor(govArn, 'us-gov-east-1')[0]).toEqual({
      region: 'us-gov-east-1',
      key: 'arn:aws-us-gov:kms:us-gov-east-1:123456789012:key/mrk-1',
    });
  });
});
