/** The garbage collector. */
export { collectableResources, DISCOVERY_KEY, DISCOVERY_PERIOD_MS, GarbageCollector, gcKey, MONITORED, NAME, newGarbageCollector, type GcDynamic } from "./controller.ts";
export { decideDependent, decideOwner, type DependentAction, type OwnerAction, type OwnerCheck, type OwnerState } from "./decide.ts";
export {
  AGGREGATED_DISCOVERY_ACCEPT, CachedDiscovery, discoveryFor, parseAggregatedDiscovery, preferredResources, StaticDiscovery,
  type DiscoveredResource, type DiscoverySource,
} from "./discovery.ts";
export { dynamicWriter, FakeDynamicInformers, MetadataInformers, metadataListWatch, type DynamicInformers } from "./dynamic.ts";
