/** The garbage collector. */
export { GarbageCollector, gcKey, MONITORED, NAME, newGarbageCollector } from "./controller.ts";
export { decideDependent, decideOwner, type DependentAction, type OwnerAction, type OwnerCheck, type OwnerState } from "./decide.ts";
