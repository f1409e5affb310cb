/** The Pod GC controller. */
export { KEY, NAME, newPodGcController, optionsFromEnv, PodGcController } from "./controller.ts";
export * from "./podgc.ts";
