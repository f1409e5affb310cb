/**
 * ImageLocality: favors nodes that already have the pod's images, scaled by how widely each image
 * is spread. Per-node sums are computed here (memoized per image list and snapshot images epoch)
 * and scored in the kernel.
 */
import type { KernelPlugin } from "../../framework/interface.ts";
import type { Snapshot } from "../../cache/snapshot.ts";

export const NAME = "ImageLocality";

/** Σ over the pod's images present on node i of trunc(size × (nodesWithImage / totalNodes)) (upstream's float order). */
export function imageSums(images: readonly string[], snap: Snapshot): Float64Array {
  const out = new Float64Array(snap.size);
  const total = snap.size;
  for (let i = 0; i < snap.size; i++) {
    const n = snap.nodes[i];
    if (!n || n.images.size === 0) continue;
    let s = 0;
    for (const img of images) {
      const size = n.images.get(img);
      if (size === undefined) continue;
      s += Math.trunc(size * ((snap.imageNodes.get(img) ?? 0) / total));
    }
    out[i] = s;
  }
  return out;
}

export function newImageLocality(): KernelPlugin {
  let epoch = -1;
  const memo = new Map<string, Float64Array>();
  return {
    name: NAME,
    kernelWeight: "imageLocality",
    fillKernelInput(_state, pod, snap, input) {
      input.numContainers = pod.numContainers;
      if (pod.images.length === 0 || snap.imageNodes.size === 0) return undefined;
      if (epoch !== snap.imagesEpoch) { memo.clear(); epoch = snap.imagesEpoch; }
      const key = pod.images.join("\u0000");
      let sums = memo.get(key);
      if (!sums) {
        if (memo.size > 64) memo.clear();
        sums = imageSums(pod.images, snap);
        memo.set(key, sums);
      }
      input.imageSums = sums;
      return undefined;
    },
  } satisfies KernelPlugin;
}
