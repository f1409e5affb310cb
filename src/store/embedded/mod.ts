export { type EmbeddedStoreOptions, openEmbeddedStore } from "./store.ts";
