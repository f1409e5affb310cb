/**
 * Kubernetes protobuf codec: the JSON-shaped in-memory objects <-> "k8s\0" + runtime.Unknown bodies,
 * and length-framed protobuf watch events. Generated per-message codecs do the work (no reflection on
 * the hot path). Every malformed input becomes `ApiError` 400 BadRequest; nothing else escapes.
 *
 *   encodeObject(obj)           -> "k8s\0" + Unknown{typeMeta, raw: <message>, "", ""}
 *   decodeObject(bytes)         -> object with apiVersion and kind first
 *   encodeWatchEvent(type, raw) -> 4-byte big-endian length + WatchEvent{type, object: {raw}}
 *   decodeWatchEvent(frame)     -> { type, object }
 *
 * The codec itself is wire.ts (no schema table; what clients import); this module adds the schema
 * helpers and registers the schema-based finder, so an encode type error names the field path.
 */
import { findTypeError } from "./typecheck.ts";
import { setTypeErrorFinder } from "./wire.ts";

export {
  PROTOBUF_MAGIC, PROTOBUF_CONTENT_TYPE, hasProto, encodeObject, decodeObject, encodeMessage, decodeMessage,
  encodeWatchEvent, decodeWatchEvent, decodeWatchEventMessage, splitWatchFrames,
} from "./wire.ts";
export type { DecodedWatchEvent } from "./wire.ts";
export { unknownFields, unknownFieldsOf, messageSchema, messageForKind, jsonFields } from "./schema.ts";
export type { FieldSchema, MessageSchema, SpecialType } from "./schema.ts";

setTypeErrorFinder((fq, obj) => findTypeError(fq, obj));
