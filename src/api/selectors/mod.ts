/** Label and field selectors, and their combination into the watch cache's ObjectFilter. */
export * from "./labels.ts";
export * from "./fields.ts";
export * from "./filter.ts";
