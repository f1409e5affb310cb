/** The plugin-authoring face of the framework: extension point interfaces, statuses, cycle state, events, config. */
export * from "./interface.ts";
export * from "./status.ts";
export * from "./events.ts";
export * from "./registry.ts";
export { Framework, type FrameworkDeps } from "./framework.ts";
export * from "./config.ts";
