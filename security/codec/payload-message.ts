import { Root, type IMapField } from 'protobufjs/light';
import type { Payload } from '@temporalio/common';

/**
 * The Temporal API's `temporal.api.common.v1.Payload` (temporal/api/common/v1/message.proto: `map<string, bytes>
 * metadata = 1; bytes data = 2; repeated ExternalPayloadDetails external_payloads = 3;`), the one message the
 * codec seals. Declared here instead of taken from `@temporalio/proto`, whose whole API takes ~100 ms to load: a
 * CLI command that only decrypts payloads read over Temporal's HTTP API never loads it. It is built with the same
 * protobufjs (one copy in the tree), so the bytes are the same (test/unit/codec.payload-message.test.ts).
 */
const METADATA_FIELD: IMapField = { keyType: 'string', type: 'bytes', id: 1 };

const PayloadMessage = Root.fromJSON({
  nested: {
    Payload: {
      fields: {
        metadata: METADATA_FIELD,
        data: { type: 'bytes', id: 2 },
        externalPayloads: { rule: 'repeated', type: 'ExternalPayloadDetails', id: 3 },
      },
      nested: { ExternalPayloadDetails: { fields: { sizeBytes: { type: 'int64', id: 1 } } } },
    },
  },
}).lookupType('Payload');

export function encodePayload(payload: Payload): Uint8Array {
  return PayloadMessage.encode(payload).finish();
}

export function decodePayload(bytes: Uint8Array): Payload {
  return PayloadMessage.decode(bytes) as unknown as Payload;
}
