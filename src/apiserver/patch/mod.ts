export { applyJsonPatch, parseJsonPatch, parsePointer, jsonEqual, PatchError } from "./jsonpatch.ts";
export type { Json, JsonPatchOp } from "./jsonpatch.ts";
export { applyMergePatch } from "./mergepatch.ts";
export { applyStrategicMergePatch, applyStrategicMergePatchOwned } from "./strategic.ts";
export type { ListMergeInfo, MergeKeyLookup } from "./strategic.ts";
