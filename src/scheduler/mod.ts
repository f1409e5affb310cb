/**
 * The scheduler core (kube-scheduler semantics, every node scored through the kernel). A runner
 * (informers + API client) drives `Scheduler` and implements the ports. See docs/scheduler.md.
 */
export { Scheduler, type ScheduleResult, type SchedulerOptions } from "./scheduler.ts";
export type { Binder, EventRecorder, Metrics, PodPreemptor, PodStatusWriter, SchedulePhase } from "./ports.ts";
export { noMetrics } from "./ports.ts";
export { type Clock, FakeClock, systemClock } from "./clock.ts";
export { API_VERSION, defaultSchedulerConfig, parseSchedulerConfig, type SchedulerConfig, SchedulerConfigError } from "./framework/config.ts";
export type { PdbInfo } from "./framework/interface.ts";
export { newPodInfo, type PodInfo, podKey } from "./types.ts";
