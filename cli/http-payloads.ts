import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common/lib/converter/payload-converter';

/** The payload codec as the CLI holds it (encryption with the configured keys), or none. */
export interface PayloadCodecLike {
  encode(payloads: Payload[]): Promise<Payload[]>;
  decode(payloads: Payload[]): Promise<Payload[]>;
}

/** A payload as Temporal's HTTP API writes and reads it: metadata values and data in base64. */
export interface WirePayload {
  metadata: Record<string, string>;
  data?: string;
}

/**
 * Values into the HTTP API's payloads exactly as the gRPC client sends them: the default payload converter, then
 * the codec (so what reaches history is encrypted the same way whichever transport carried it).
 */
export async function encodeValues(
  values: unknown[],
  codec: PayloadCodecLike | undefined,
): Promise<WirePayload[]> {
  const payloads = values.map((value) => defaultPayloadConverter.toPayload(value));
  const encoded = codec === undefined ? payloads : await codec.encode(payloads);
  return encoded.map(toWire);
}

/** The HTTP API's payloads back into values: the codec, then the default payload converter. */
export async function decodeValues(
  payloads: unknown,
  codec: PayloadCodecLike | undefined,
): Promise<unknown[]> {
  if (!Array.isArray(payloads)) throw new Error('payloads are not a list');
  const wire = payloads.map(fromWire);
  const decoded = codec === undefined ? wire : await codec.decode(wire);
  return decoded.map((payload) => defaultPayloadConverter.fromPayload(payload));
}

export function toWire(payload: Payload): WirePayload {
  const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, base64(value)]),
    ),
    ...(payload.data === undefined || payload.data === null ? {} : { data: base64(payload.data) }),
  };
}

export function fromWire(value: unknown): Payload {
  const { metadata, data } = (value ?? {}) as { metadata?: unknown; data?: unknown };
  if (typeof metadata !== 'object' || metadata === null || (data !== undefined && typeof data !== 'string')) {
    throw new Error('a payload not in the HTTP API form { metadata, data } (base64)');
  }
  const bytes = (base64: unknown) => {
    if (typeof base64 !== 'string') throw new Error('a payload metadata value that is not base64');
    return new Uint8Array(Buffer.from(base64, 'base64'));
  };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([key, item]) => [key, bytes(item)])),
    ...(data === undefined ? {} : { data: bytes(data) }),
  };
}
