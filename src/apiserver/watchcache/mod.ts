/** The apiserver's watch cache (see cache.ts) and its port types. */
export * from "./types.ts";
export { createWatchCache, tooLargeResourceVersion } from "./cache.ts";
export type { WatchCache, WatchCacheOptions, WatchCacheStats } from "./cache.ts";
export type { Encoders } from "./cached.ts";
export { decodeContinue, encodeContinue } from "./continue.ts";
