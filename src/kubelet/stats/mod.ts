/** Usage statistics of the node agent: the kubelet-style Summary (`GET /stats/summary`). */
export { nodeMemory, parseMeminfo, parseProcStatCpu, readNodeSample, type NodeSample } from "./host.ts";
export { StatsProvider, type StatsProviderOptions } from "./provider.ts";
export {
  buildSummary, nanoCores, type ContainerStatsSummary, type CPUStats, type MemoryStats, type NodeStatsSummary, type PodReference,
  type PodStatsSummary, type Summary, type SummaryInput,
} from "./summary.ts";
