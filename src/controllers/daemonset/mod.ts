/** The DaemonSet controller. */
export { NAME, newDaemonSetController, DaemonSetController, nodeChangeMatters } from "./controller.ts";
export * from "./ds.ts";
