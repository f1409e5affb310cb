/**
 * Tugboat's node agent (kubelet): Node registration and heartbeats, per-pod workers driving a
 * container runtime, probes, the status manager, hollow fleets and the streaming seam.
 * See docs/kubelet.md. Runtimes: ./runtime/mod.ts (the port), ./runtimes/<name>/.
 */
export { NodeAgent, type NodeAgentOptions, type NodeAgentStats } from "./agent.ts";
export { startHollowFleet, hollowNodeIP, hollowPodCidr, type HollowFleet, type HollowFleetOptions } from "./fleet.ts";
export { Backoff, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from "./backoff.ts";
export {
  computePhase, containerStatusOf, generatePodStatus, KUBELET_CONDITIONS, type ContainerHistory, type ObservedContainer,
  type ProbeView, type StatusInput, type WaitingReason,
} from "./podstatus.ts";
export { canonical, OWNED_STATUS_FIELDS, StatusManager, statusEqual, statusPatch, type PodStatusWriter } from "./status-manager.ts";
export { alwaysSucceeds, Prober, type NetworkProbe, type ProberOptions, type ProbeKind } from "./probes.ts";
export { fmtDuration, PodWorkers, type PodWorkersOptions } from "./pod-workers.ts";
export {
  conditionsChanged, DEFAULT_CAPACITY, initialNode, nodeConditions, nodeLabels, readyCondition, staticNodeStatus,
  type NodeCapacity, type NodeDescription,
} from "./node-status.ts";
export { DEFAULT_LEASE_DURATION_SECONDS, DEFAULT_STATUS_REPORT_MS, Heartbeat, LEASE_NAMESPACE, type HeartbeatOptions } from "./heartbeat.ts";
export { KubeletStreaming, type LogOptions, type PodLookup } from "./streaming.ts";
export { hostNodeName, parseAgentFlags, parseHollowFlags, RUNTIME_NAMES, runAgent, runHollow, startLocalAgent } from "./cli.ts";
export * from "./types.ts";
