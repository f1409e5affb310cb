/** Lifecycle hooks, pod-network checks (probes and httpGet hooks) and activeDeadlineSeconds. */
export { activeDeadlineAt, DEADLINE_MESSAGE, DEADLINE_REASON, MIN_GRACE_SECONDS, runHook, runPreStop, type HookContext, type HookResult } from "./hooks.ts";
export { httpGet, podNetworkProbe, resolvePort, tcpCheck, type HttpGetResult } from "./netprobe.ts";
export {
  decodeHealthCheckResponse, encodeHealthCheckRequest, frameGrpcMessage, grpcHealthCheck, GrpcStatusError, judgeHealthResponse,
  unframeGrpcMessage, type GrpcCheckOptions,
} from "./grpcprobe.ts";
