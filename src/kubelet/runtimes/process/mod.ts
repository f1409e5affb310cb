/** The process runtime: containers as local process groups, pods on their own loopback addresses. */
export {
  containerArgv,
  createProcessRuntime,
  DEFAULT_POD_ADDRESS_POOL,
  PROCESS_RUNTIME_NAME,
  PROCESS_RUNTIME_VERSION,
  ProcessRuntime,
  type ProcessRuntimeOptions,
  type ProcessRuntimeStatus,
} from "./runtime.ts";
export { DEFAULT_PATH, type ImageDefinition, resolveImage } from "./images.ts";
export { detectLimits, type LimitsInfo, type LimitsMode, type LimitsOptions } from "./limits.ts";
export { parseAddressPool } from "./state.ts";
