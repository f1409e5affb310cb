/** The node agent's streaming endpoint (logs, exec, attach, port-forward). See docs/streaming.md. */
export { createStreamingHandler, KUBELET_CLIENT_CN, statsNodeFor, toApiError, type StreamingHandlerOptions, type StreamingNodes } from "./handler.ts";
export { logBody, type LogBodyOptions } from "./logbody.ts";
export { isLogOptionsError, parsePodLogOptions, podLogQuery, sinceMsOf, type LogOptionsError, type PodLogOptions } from "./logoptions.ts";
export { kubeletPath, parseKubeletPath, type KubeletRoute } from "./paths.ts";
export {
  KUBELET_ENDPOINT_ANNOTATION, kubeletCredentials, kubeletCredentialsFromPkiDir, startStreamingServer,
  type KubeletEndpoint, type StreamingCredentials, type StreamingServer, type StreamingServerOptions,
} from "./server.ts";
