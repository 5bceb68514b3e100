import { Reader, Writer } from 'protobufjs/minimal';
import type { Payload } from '@temporalio/common';

/**
 * The Temporal API's `temporal.api.common.v1.Payload` (temporal/api/common/v1/message.proto: `map<string, bytes>
 * metadata = 1; bytes data = 2; repeated ExternalPayloadDetails external_payloads = 3;` with `int64 size_bytes =
 * 1;`), the one message the codec seals. Written against protobufjs's minimal runtime, as its static code
 * generator (`pbjs -t static`) writes messages, instead of taken from `@temporalio/proto` (~100 ms to load) or built
 * by reflection (`protobufjs/light`, ~25 ms more): a CLI command that only decrypts payloads read over Temporal's
 * HTTP API loads neither. The same protobufjs (one copy in the tree) writes the wire format, and the bytes are the
 * SDK's (test/unit/codec.payload-message.test.ts).
 */
export function encodePayload(payload: Payload): Uint8Array {
  const writer = Writer.create();
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    writer.uint32(10).fork().uint32(10).string(key).uint32(18).bytes(value).ldelim();
  }
  // proto3: an empty `data` is not written, as the SDK writes it.
  if (payload.data != null && payload.data.length > 0) writer.uint32(18).bytes(payload.data);
  for (const external of payload.externalPayloads ?? []) {
    writer.uint32(26).fork();
    // proto3 again: a zero size is not written (a Long or a number: compared by its text).
    if (external.sizeBytes != null && String(external.sizeBytes) !== '0')
      writer.uint32(8).int64(external.sizeBytes);
    writer.ldelim();
  }
  return writer.finish();
}

type ExternalPayload = NonNullable<Payload['externalPayloads']>[number];

export function decodePayload(bytes: Uint8Array): Payload {
  const reader = Reader.create(bytes);
  // Absent fields read as proto3's defaults, as from a message the SDK decodes.
  const payload: Payload = { metadata: {}, data: new Uint8Array() };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1: {
        const end = reader.uint32() + reader.pos;
        let key = '';
        let value: Uint8Array = new Uint8Array();
        while (reader.pos < end) {
          const entryTag = reader.uint32();
          if (entryTag >>> 3 === 1) key = reader.string();
          else if (entryTag >>> 3 === 2) value = reader.bytes();
          else reader.skipType(entryTag & 7);
        }
        (payload.metadata as Record<string, Uint8Array>)[key] = value;
        break;
      }
      case 2:
        payload.data = reader.bytes();
        break;
      case 3: {
        const end = reader.uint32() + reader.pos;
        const external: ExternalPayload = {};
        while (reader.pos < end) {
          const detailTag = reader.uint32();
          if (detailTag >>> 3 === 1) external.sizeBytes = reader.int64() as ExternalPayload['sizeBytes'];
          else reader.skipType(detailTag & 7);
        }
        (payload.externalPayloads ??= []).push(external);
        break;
      }
      default:
        reader.skipType(tag & 7);
    }
  }
  return payload;
}
