/**
 * The scheduler as a running component (informers, loop, API ports, metrics, leader election).
 * See docs/scheduler.md ("Runner").
 */
export { createSchedulerRunner, DEFAULT_SCHEDULER_LEASE, type RunnerStats, SchedulerRunner, type SchedulerRunnerOptions, startScheduler } from "./runner.ts";
export { ApiBinder, ApiPreemptor, ApiStatusWriter, clientEventSink, clientPodApi, type PodApi } from "./api.ts";
export { type EventSink, type EventStats, SchedulerEventRecorder, type SchedulerEventRecorderOptions } from "./events.ts";
export { isKernelChoice, KERNEL_CHOICES, type KernelChoice, loadKernel } from "./kernel.ts";
export { SchedulerMetrics } from "./metrics.ts";
export { serveMetrics } from "./serve.ts";
