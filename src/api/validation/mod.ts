/** Validation helpers with Kubernetes' exact messages. */
export * from "./field.ts";
export * from "./names.ts";
export * from "./quantity.ts";
export * from "./meta.ts";
