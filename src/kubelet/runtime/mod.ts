/** The container runtime port of the node agent and the helpers every runtime shares. */
export * from "./types.ts";
export { isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError, type RuntimeErrorCode, runtimeErrors } from "./errors.ts";
export { type Clock, FakeClock, systemClock, type TimerHandle } from "./clock.ts";
export { type ScheduledTask, sharedTimerQueue, TimerQueue } from "./timers.ts";
export { EventBroadcaster } from "./events.ts";
export { type ImageReference, isImageId, normalizeImage, parseImageReference } from "./image.ts";
export {
  appendCriLog,
  type CriLogRecord,
  CriLogWriter,
  DEFAULT_LOG_MAX_BYTES,
  DEFAULT_LOG_MAX_FILES,
  DEFAULT_MAX_LINE_BYTES,
  encodeCriRecord,
  formatCriTimestamp,
  formatLogRecord,
  type LogLine,
  type LogRotation,
  type LogStream,
  parseCriRecord,
  parseCriTimestamp,
  type ReadLogOptions,
  readCriLog,
  recordText,
} from "./logs.ts";
export { type CollectingSink, collectingSink, execSync, type ExecSyncResult, stdinOf } from "./streams.ts";
export {
  exitReason,
  matchesContainerFilter,
  matchesLabels,
  matchesSandboxFilter,
  validateContainerConfig,
  validateSandboxConfig,
  validateStopTimeout,
} from "./validate.ts";
