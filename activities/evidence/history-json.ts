/**
 * History as proto3 JSON, the format `temporal workflow show --output json` writes (enum names, RFC 3339 times,
 * int64 as strings, payload bytes base64). `historyToJSON` of @temporalio/common 1.24 throws "type must be a
 * Type" in this install: it passes a type from @temporalio/proto's protobufjs 7 root to the protojson of its own
 * protobufjs 8. Here both sides come from the protobufjs that @temporalio/common resolves, with the type tree
 * rebuilt from @temporalio/proto's descriptors.
 */
import { dirname } from 'node:path';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

interface ProtobufModule {
  Root: { fromJSON(json: unknown): { lookupType(name: string): { fromObject(value: unknown): unknown } } };
}
interface ProtojsonModule {
  toJson(type: unknown, message: unknown): unknown;
}

let historyType: { fromObject(value: unknown): unknown } | undefined;
let protojson: ProtojsonModule | undefined;

function load(): { type: { fromObject(value: unknown): unknown }; json: ProtojsonModule } {
  if (!historyType || !protojson) {
    const from = { paths: [dirname(require.resolve('@temporalio/common'))] };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the protobufjs copy @temporalio/common uses
    const protobuf = require(require.resolve('protobufjs', from)) as ProtobufModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- its protojson extension, same copy
    protojson = require(require.resolve('protobufjs/ext/protojson', from)) as ProtojsonModule;
    const descriptors = (patchProtobufRoot(proto) as unknown as { toJSON(): unknown }).toJSON();
    historyType = protobuf.Root.fromJSON(descriptors).lookupType('temporal.api.history.v1.History');
  }
  return { type: historyType, json: protojson };
}

export function historyAsJson(history: History): string {
  const { type, json } = load();
  const plain = proto.temporal.api.history.v1.History.toObject(
    proto.temporal.api.history.v1.History.fromObject(history),
    { longs: String, bytes: String },
  );
  return `${JSON.stringify(json.toJson(type, type.fromObject(plain)), null, 2)}\n`;
}
