/**
 * The event library shared by every component (controllers, node agents, scheduler): pure
 * correlators (aggregation, deduplication, spam filter; events.k8s.io-style series), a bounded
 * non-blocking write queue, and a broadcaster tying them to an `EventSink`. See docs/client.md.
 */
export { EventBroadcaster, type EventBroadcasterOptions, type EventRecorder, type RecordOptions, type RecorderOptions, type RecordingStyle } from "./broadcaster.ts";
export { COMBINED_PREFIX, coreEvent, EventCorrelator, type Correlation, type CorrelatorOptions } from "./correlator.ts";
export { defaultRetriable, EventWriteQueue, type EventWrite, type QueueOptions, type WriteOutcome } from "./queue.ts";
export { EventSeriesCorrelator, type SeriesOptions, type SeriesWrite } from "./series.ts";
export { clientEventSink, patchToEventsV1, toEventsV1, writeEvent, type EventApiVersion, type EventSink } from "./sink.ts";
export {
  eventName, eventNamespace, newEventStats, referenceOf, rfc3339, rfc3339Micro,
  type EventOccurrence, type EventSource, type EventStats, type EventType, type ObjectReference,
} from "./types.ts";
