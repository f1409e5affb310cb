/** The apiserver's watch cache (see cache.ts) and its port types. */
export * from "./types.ts";
export { createWatchCache, tooLargeResourceVersion } from "./cache.ts";
export type { WatchCache, WatchCacheOptions, WatchCacheStats } from "./cache.ts";
export type { Encoders } from "./cached.ts";
export { MemoPool, DEFAULT_MEMO_BUDGET } from "./cached.ts";
export { jsonListChunks, protoListChunks, protoListBody, type ListHead } from "./listbody.ts";
export { decodeContinue, encodeContinue } from "./continue.ts";
