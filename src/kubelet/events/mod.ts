/** Events the node agent records about pods. */
export { CollectingEventSink, KubeletEventRecorder, noEvents, type EventType, type KubeletEventRecorderOptions, type PodEventSink } from "./recorder.ts";
