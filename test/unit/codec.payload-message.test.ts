import { temporal } from '@temporalio/proto';
import { decodePayload, encodePayload } from '../../security/codec/payload-message';

const TemporalPayload = temporal.api.common.v1.Payload;
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

const payloads: Array<{
  metadata: Record<string, Uint8Array>;
  data?: Uint8Array;
  externalPayloads?: object[];
}> = [
  { metadata: { encoding: bytes('json/plain') }, data: bytes('{"runbook":"ehr-db","steps":[1,2,3]}') },
  { metadata: { encoding: bytes('binary/null') } },
  {
    metadata: { encoding: bytes('json/plain'), messageType: bytes('x') },
    data: new Uint8Array(70_000).fill(7),
  },
  { metadata: {}, data: bytes(''), externalPayloads: [{ sizeBytes: 123_456_789 }] },
  {
    metadata: { empty: bytes(''), encoding: bytes('binary/plain') },
    data: bytes('y'),
    externalPayloads: [{ sizeBytes: 1 }, { sizeBytes: 0 }, {}, { sizeBytes: 2 ** 40 }],
  },
];

const asJson = (encoded: Uint8Array) =>
  TemporalPayload.toObject(TemporalPayload.decode(encoded), { bytes: String });

describe("the codec's Payload message is the Temporal API's", () => {
  it.each(payloads.map((payload, index) => [index, payload]))(
    'GIVEN payload %i THEN it encodes to the bytes @temporalio/proto writes',
    (_index, payload) => {
      expect(
        Buffer.from(encodePayload(payload)).equals(Buffer.from(TemporalPayload.encode(payload).finish())),
      ).toBe(true);
    },
  );

  it.each(payloads.map((payload, index) => [index, payload]))(
    'GIVEN payload %i THEN it decodes what @temporalio/proto writes to the same message',
    (_index, payload) => {
      const theirs = TemporalPayload.encode(payload).finish();
      expect(asJson(encodePayload(decodePayload(theirs)))).toEqual(asJson(theirs));
    },
  );
});
