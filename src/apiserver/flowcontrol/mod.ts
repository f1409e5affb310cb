/** API Priority and Fairness: classification, fair queuing and the request gate the handler runs. */
export * from "./types.ts";
export { DEFAULT_FLOW_SCHEMAS, DEFAULT_PRIORITY_LEVELS, builtinUid } from "./bootstrap.ts";
export { Classifier, schemaMatches, subjectMatches } from "./classify.ts";
export { QueueSet, type Entry, type OfferResult, type QueueSetConfig } from "./queueset.ts";
export { dealHand, flowHash } from "./shuffle.ts";
export { FlowControlMetrics, type RejectReason } from "./metrics.ts";
export {
  createRequestGate, FlowController, HEADER_FLOW_SCHEMA_UID, HEADER_PRIORITY_LEVEL_UID, isLongRunningStream, MaxInFlightGate,
  nominalLimits, TOO_MANY_REQUESTS_MESSAGE, TooManyRequestsError,
  type FlowControlOptions, type GateOptions, type RequestGate, type Ticket,
} from "./controller.ts";
export { digestOf } from "./digest.ts";
export { parseFlowControlFlags, type FlowControlFlags } from "./flags.ts";
