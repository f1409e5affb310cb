/**
 * Linear-memory layout of the scheduler kernel: one table of byte offsets that the TypeScript side
 * computes and writes into a header at address 0, and that `wasm/scheduler.ts` reads at the start
 * of every call. The field numbers (`F`), parameter slots (`PI`, `PF`) and header slots below are
 * mirrored by constants in `wasm/scheduler/_layout.ts`; change both together and bump `MAGIC`.
 *
 * Node arrays are struct-of-arrays with `capacity` slots (a multiple of 32, so bitsets are whole
 * words and SIMD groups of 4 never straddle the end). Per-extended-resource and per-taint-word
 * arrays are row-major: row k starts at `offset + k * capacity * elementSize`.
 */

/** Header magic + layout version. */
export const MAGIC = 0x5447_4b03;
/** Header slots (i32 indices at address 0). Field offsets start at `H_FIELDS`. */
export const H_MAGIC = 0;
export const H_CAPACITY = 1;
export const H_EXT = 2;
export const H_TAINT_WORDS = 3;
export const H_FIELDS = 8;
export const HEADER_BYTES = 256;

/** Field numbers. f64 node arrays first, then i32 node arrays, bitsets, fixed blocks. */
export const F = {
  allocCpu: 0, allocMem: 1, allocEph: 2, reqCpu: 3, reqMem: 4, reqEph: 5, nzCpu: 6, nzMem: 7,
  allocExt: 8, reqExt: 9, imageSums: 10,
  allocPods: 11, podCount: 12, flags: 13, taintHard: 14, taintPrefer: 15,
  preferredWeights: 16, extraScore: 17, status: 18, score: 19, rawTaint: 20, rawAffinity: 21,
  selector: 22, externalReject: 23,
  paramsF64: 24, paramsI32: 25, reasonCounts: 26, rtcrTable: 27, result: 28,
  /** Kernel-private per-call scratch (resource pointers resolved once per pod). */
  scratch: 29,
} as const;
export const FIELD_COUNT = 30;
export const SCRATCH_BYTES = 512;

/** i32 parameter slots (profile + per-pod). */
export const PI = {
  wFit: 0, wBalanced: 1, wTaint: 2, wAffinity: 3, wImage: 4, strategy: 5,
  fitCount: 6, fitResources: 7 /* ..14 */, fitWeights: 15 /* ..22 */, balancedCount: 23, balancedResources: 24 /* ..31 */,
  podFlags: 32, numContainers: 33, seed: 34,
  toleratedHard: 40 /* ..47 */, toleratedPrefer: 48 /* ..55 */,
} as const;
export const PARAMS_I32 = 64;
/** f64 parameter slots (per-pod requests). */
export const PF = { cpu: 0, memory: 1, ephemeral: 2, nzCpu: 3, nzMemory: 4, ext: 8 /* ..15 */ } as const;
export const PARAMS_F64 = 16;

/** podFlags bits. */
export const POD_TOLERATES_UNSCHEDULABLE = 1;
export const POD_HAS_SELECTOR = 2;
export const POD_HAS_PREFERRED = 4;
export const POD_HAS_IMAGES = 8;
export const POD_HAS_EXTRA_SCORE = 16;
export const POD_HAS_EXTERNAL_FILTER = 32;

/** Node flag bits. */
export const NODE_UNSCHEDULABLE = 1;

/** Result slots (i32). */
export const RESULT_BEST = 0;
export const RESULT_FEASIBLE = 1;

export const MAX_EXTENDED = 8;
export const MAX_TAINT_WORDS = 8;
export const MAX_SCORING_RESOURCES = 8;
export const REASON_SLOTS = 16;
export const RTCR_TABLE = 104; // 101 used (utilization 0..100)

export interface Layout {
  readonly capacity: number;
  readonly ext: number;
  readonly taintWords: number;
  /** Byte offset of each field, indexed by `F`. */
  readonly offsets: Int32Array;
  /** Total bytes needed. */
  readonly bytes: number;
}

/** Rounds a node count up to a valid capacity (multiple of 32, at least 32). */
export function roundCapacity(n: number): number {
  return Math.max(32, Math.ceil(n / 32) * 32);
}

/** Computes offsets for `capacity` node slots (must already be a multiple of 32). */
export function computeLayout(capacity: number, ext: number, taintWords: number): Layout {
  const offsets = new Int32Array(FIELD_COUNT);
  let at = HEADER_BYTES;
  const put = (field: number, bytes: number): void => {
    offsets[field] = at;
    at += Math.ceil(bytes / 16) * 16;
  };
  const c = capacity;
  for (const f of [F.allocCpu, F.allocMem, F.allocEph, F.reqCpu, F.reqMem, F.reqEph, F.nzCpu, F.nzMem]) put(f, c * 8);
  put(F.allocExt, c * 8 * Math.max(ext, 1));
  put(F.reqExt, c * 8 * Math.max(ext, 1));
  put(F.imageSums, c * 8);
  for (const f of [F.allocPods, F.podCount, F.flags]) put(f, c * 4);
  put(F.taintHard, c * 4 * taintWords);
  put(F.taintPrefer, c * 4 * taintWords);
  for (const f of [F.preferredWeights, F.extraScore, F.status, F.score, F.rawTaint, F.rawAffinity]) put(f, c * 4);
  put(F.selector, c / 8);
  put(F.externalReject, c / 8);
  put(F.paramsF64, PARAMS_F64 * 8);
  put(F.paramsI32, PARAMS_I32 * 4);
  put(F.reasonCounts, REASON_SLOTS * 4);
  put(F.rtcrTable, RTCR_TABLE * 4);
  put(F.result, 16);
  put(F.scratch, SCRATCH_BYTES);
  return { capacity, ext, taintWords, offsets, bytes: at };
}

/** Writes the header of `layout` into `i32` (a view of the whole memory from address 0). */
export function writeHeader(i32: Int32Array, layout: Layout): void {
  i32[H_MAGIC] = MAGIC;
  i32[H_CAPACITY] = layout.capacity;
  i32[H_EXT] = layout.ext;
  i32[H_TAINT_WORDS] = layout.taintWords;
  i32.set(layout.offsets, H_FIELDS);
}
