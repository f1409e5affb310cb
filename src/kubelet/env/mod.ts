/** Container environments: `$(VAR)` expansion, env/envFrom/valueFrom, downward API values, service links, object sources. */
export { expand, lookupIn, type VarLookup } from "./expand.ts";
export { EnvError, expandArgs, isEnvVarName, makeEnvironment, type EnvContext, type EnvResult, type EnvWarning } from "./env.ts";
export { formatMap, podFieldValue, resourceFieldValue, type NodeAllocatable, type PodRuntimeFacts } from "./fieldpath.ts";
export { base64Bytes, dataOf, MapObjectSource, notFoundText, podReferences, secretValue, type Lookup, type ObjectKind, type ObjectRef, type ObjectSource } from "./objects.ts";
export { envVarName, serviceEnv, serviceEnvMap } from "./services.ts";
export { WatchingObjectSource, type WatchingObjectSourceOptions } from "./watching.ts";
export { podResourcesOf, quantityUnits, resourcesOf } from "./resources.ts";
