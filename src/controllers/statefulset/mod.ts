/** The StatefulSet controller. */
export { NAME, newStatefulSetController, StatefulSetController } from "./controller.ts";
export * from "./sts.ts";
