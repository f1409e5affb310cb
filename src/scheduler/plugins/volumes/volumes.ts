/**
 * The volume plugins of the default profile (VolumeRestrictions, NodeVolumeLimits, VolumeBinding,
 * VolumeZone). Tugboat has no volume scheduling yet: they are known names that accept every node,
 * so configurations that mention them still load.
 */
import type { FilterPlugin } from "../../framework/interface.ts";

export const NAMES = ["VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone"] as const;

export function newInertVolumePlugin(name: string): FilterPlugin {
  return {
    name,
    filter: () => undefined,
    filterAll: () => undefined,
  } satisfies FilterPlugin;
}
