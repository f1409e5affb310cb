import { runStoreConformance } from "./conformance.ts";
import { createMemoryStore } from "./memory.ts";

runStoreConformance("memory", async () => ({ store: createMemoryStore(), cleanup: async () => {} }));
