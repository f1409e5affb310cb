/** The node lifecycle controller (health, taints, NoExecute taint manager). */
export { NAME, newNodeLifecycleController, NODE_LEASE_NAMESPACE, NodeLifecycleController, optionsFromEnv } from "./controller.ts";
export * from "./health.ts";
