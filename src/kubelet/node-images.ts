/**
 * `node.status.images` from the runtime's image list, as the kubelet reports it: per image the
 * repo digests then the repo tags (at most 5 names), `sizeBytes`; largest images first; at most
 * `nodeStatusMaxImages` (50) images.
 *
 * Equal lists are interned: `internNodeImages` hands back one shared frozen array per distinct
 * content (a bounded table), so a fleet of hollow nodes with the same images holds one copy, and
 * comparing with the last reported list is a reference or key comparison.
 */
import type { Image } from "./runtime/types.ts";

/** The kubelet's default `--node-status-max-images`. */
export const NODE_STATUS_MAX_IMAGES = 50;
/** The kubelet's `MaxNamesPerImageInNodeStatus`. */
export const MAX_NAMES_PER_IMAGE = 5;

export interface NodeImage {
  readonly names: readonly string[];
  readonly sizeBytes: number;
}

/** Pure: the node status list for `images` (largest first; ties by id for a stable order). */
export function nodeImages(images: readonly Image[], max = NODE_STATUS_MAX_IMAGES): NodeImage[] {
  const sorted = [...images].sort((a, b) => b.size - a.size || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const limited = max >= 0 ? sorted.slice(0, max) : sorted;
  return limited.map((i) => ({ names: [...i.repoDigests, ...i.repoTags].slice(0, MAX_NAMES_PER_IMAGE), sizeBytes: i.size }));
}

/** A stable text key of a list (what "changed" means for node status). */
export function nodeImagesKey(list: readonly NodeImage[]): string {
  return JSON.stringify(list.map((i) => [i.names, i.sizeBytes]));
}

const INTERN_LIMIT = 256;
const interned = new Map<string, { readonly key: string; readonly images: readonly NodeImage[] }>();

/**
 * The shared copy of `list` (deeply frozen) and its key. The table holds at most 256 distinct
 * lists; when full it starts over (callers keep their references, they just stop being shared).
 */
export function internNodeImages(list: readonly NodeImage[]): { readonly key: string; readonly images: readonly NodeImage[] } {
  const key = nodeImagesKey(list);
  const have = interned.get(key);
  if (have !== undefined) return have;
  if (interned.size >= INTERN_LIMIT) interned.clear();
  const images = Object.freeze(list.map((i) => Object.freeze({ names: Object.freeze([...i.names]), sizeBytes: i.sizeBytes })));
  const entry = Object.freeze({ key, images });
  interned.set(key, entry);
  return entry;
}

/** Number of distinct interned lists (tests, cost checks). */
export function internedImageLists(): number {
  return interned.size;
}
