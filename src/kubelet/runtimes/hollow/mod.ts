/** The hollow runtime: simulated containers for tests and for thousands of nodes per process. */
export { createHollowRuntime, HOLLOW_CAPABILITIES, HOLLOW_RUNTIME_NAME, HOLLOW_RUNTIME_VERSION, HollowRuntime } from "./runtime.ts";
export { HollowHost, type HollowHostOptions } from "./host.ts";
export { HOLLOW_IMAGE_KINDS, type HollowBehavior, type HollowRule } from "./program.ts";
export { SHELL_BUILTINS } from "./shell.ts";
