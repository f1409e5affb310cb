/** The apiserver's proxy to node agents (pods/log, exec, attach, portforward). See docs/streaming.md. */
export { KubeletDialer, type KubeletClientConfig } from "./dial.ts";
export { isPodStreamSubresource, proxyPodStream, type PodStreamSubresource } from "./pods.ts";
export { containerFor, kubeletEndpointOf, isLoopbackHost, KUBELET_ENDPOINT_ANNOTATION, nodeNameOf } from "./target.ts";
export { NODE_PROXY_PATHS, proxyNode } from "./nodes.ts";
