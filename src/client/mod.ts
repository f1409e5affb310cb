/**
 * Tugboat's client library (public API): kubeconfig loading, an HTTP/2 REST client speaking
 * Kubernetes protobuf (default) or JSON, typed resource clients with watch, informers and
 * rate-limited work queues. See docs/client.md.
 */
export { Client, clientFromKubeconfig, createClient, type ClientOptions } from "./client.ts";
export { KubeconfigError, loadKubeconfig, parseKubeconfig, type ClientConfig, type KubeconfigOptions } from "./kubeconfig.ts";
export {
  acceptFor, decodeBody, DecodeError, encodeBody, errorFromResponse, JSON_CONTENT_TYPE, parseEncoding,
  PROTOBUF_CONTENT_TYPE, type Encoding,
} from "./encoding.ts";
export { ConnectionError, Http2Connection, type ConnectionOptions, type StreamingResponse } from "./http2.ts";
export { RestClient, withQuery, type RestClientOptions, type RestRequest, type RestResponse } from "./rest.ts";
export {
  asList, PATCH_CONTENT_TYPES, ResourceClient, type DeleteOptions, type ListOptions, type ObjectList,
  type PatchOptions, type PatchType, type ResourceRef, type WatchOptions, type WriteOptions,
} from "./resource.ts";
export {
  decoderFor, JsonLinesDecoder, ProtobufFrameDecoder, watchErrorOf, WatchStream, type WatchEvent, type WatchEventType,
} from "./watch.ts";
export { Indexer, keyOf, splitKey, type IndexFunc, type Lister } from "./indexer.ts";
export {
  applyWatchEvent, createInformer, listWatchFor, replaceAll, type Change, type EventHandler, type Informer,
  type InformerOptions, type InformerStats, type ListWatch, type SelectorOptions, type WatchLike,
} from "./informer.ts";
export {
  BucketRateLimiter, defaultRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, realClock, WorkQueue,
  type Clock, type RateLimiter, type WorkQueueOptions,
} from "./workqueue.ts";
export { backoffDelay, sleep, type BackoffOptions } from "./backoff.ts";
export { ApiError, isApiError } from "../api/errors.ts";
export {
  clientEventSink, EventBroadcaster, referenceOf, type EventBroadcasterOptions, type EventRecorder, type EventSink,
  type EventStats, type ObjectReference, type RecorderOptions,
} from "./events/mod.ts";
