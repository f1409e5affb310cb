// Scheduler filter+score kernel (AssemblyScript). TypeScript twin: src/scheduler/kernel/twin.ts.
// Built twice by scripts/asbuild.ts: build/wasm/scheduler.wasm (SIMD) and scheduler.scalar.wasm.
// `ASC_FEATURE_SIMD` is a compile-time constant, so the scalar build contains no v128 code.
//
// Memory: the host grows memory and writes a header at address 0 holding byte offsets of every
// array (layout in src/scheduler/kernel/_layout.ts, mirrored by wasm/scheduler/_layout.ts). The
// kernel owns no memory of its own and allocates nothing. Modules: _state (header, per-pod
// parameters), _scalar (per-node reference routines), _simd (groups of four nodes), this file
// (the exported call and best-node selection).
//
// Numeric contract (shared with the twin): all resource math is f64 holding integers; every
// upstream integer division is `trunc(a / b)` on f64, which equals Go's int64 division whenever
// |a| + |b| < 2^53 (the facade bounds inputs to keep that true). BalancedAllocation's fractions are
// plain f64 divisions exactly as upstream computes them.

import {
  PI_SEED,
} from "./scheduler/_layout";
import {
  i32At, oRawA, oRawT, oResult, oScore, oScratch,
  oStatus, pi, prepare, readHeader,
} from "./scheduler/_state";
import {
  finalScore, scalarNode,
} from "./scheduler/_scalar";
import {
  simdPass1, simdPass2All,
} from "./scheduler/_simd";

/** Picks the highest score among feasible nodes; ties by reservoir sampling with xorshift32. */
function selectBest(n: i32): i32 {
  let best: i32 = -1;
  let top: i32 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const end = n & ~3;
    let vmax = i32x4.splat(i32.MIN_VALUE);
    let any = i32x4.splat(0);
    for (; i < end; i += 4) {
      const feas = i32x4.eq(v128.load(oStatus + (<usize>i << 2)), i32x4.splat(0));
      vmax = i32x4.max_s(vmax, v128.bitselect(v128.load(oScore + (<usize>i << 2)), i32x4.splat(i32.MIN_VALUE), feas));
      any = v128.or(any, feas);
    }
    if (v128.any_true(any)) {
      top = max(max(i32x4.extract_lane(vmax, 0), i32x4.extract_lane(vmax, 1)), max(i32x4.extract_lane(vmax, 2), i32x4.extract_lane(vmax, 3)));
      best = 0; // marks "top found"; the first index is taken by the tie scan below
    }
  }
  for (; i < n; i++) {
    if (i32At(oStatus, i) != 0) continue;
    const s = i32At(oScore, i);
    if (best < 0 || s > top) { top = s; best = 0; }
  }
  if (best < 0) return -1;
  // murmur3's finalizer spreads small seeds over all 32 bits before xorshift32 takes over.
  let x: u32 = <u32>pi(PI_SEED);
  x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13; x *= 0xc2b2ae35; x ^= x >> 16;
  if (x == 0) x = 0x9e3779b9;
  let ties: u32 = 0;
  best = -1;
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const end = n & ~3;
    const vm = i32x4.splat(top);
    const z = i32x4.splat(0);
    for (; i < end; i += 4) {
      const hit = v128.and(i32x4.eq(v128.load(oScore + (<usize>i << 2)), vm), i32x4.eq(v128.load(oStatus + (<usize>i << 2)), z));
      if (!v128.any_true(hit)) continue;
      for (let l = i; l < i + 4; l++) {
        if (i32At(oStatus, l) != 0 || i32At(oScore, l) != top) continue;
        ties++;
        if (ties == 1) { best = l; continue; }
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        if (<u64>x * <u64>ties < 0x100000000) best = l;
      }
    }
  }
  for (; i < n; i++) {
    if (i32At(oStatus, i) != 0 || i32At(oScore, i) != top) continue;
    ties++;
    if (ties == 1) { best = i; continue; }
    // P = 1/ties without a division: x·ties < 2^32 for ceil(2^32/ties) of the 2^32 values of x.
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    if (<u64>x * <u64>ties < 0x100000000) best = i;
  }
  return best;
}

/**
 * Filters and scores nodes [0, n) for the pod described by the params blocks; writes status,
 * score and reason counts, and returns the best node index (-1 if none is feasible, -2 if the
 * header is missing).
 */
export function filterAndScore(n: i32): i32 {
  if (!readHeader()) return -2;
  prepare();
  let maxT: i32 = 0;
  let maxA: i32 = 0;
  let feasible: i32 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const end = n & ~3;
    let vmaxT = i32x4.splat(0);
    let vmaxA = i32x4.splat(0);
    let vfeas = i32x4.splat(0);
    for (; i < end; i += 4) {
      const feas = simdPass1(i);
      const t = v128.load(oRawT + (<usize>i << 2));
      const a = v128.load(oRawA + (<usize>i << 2));
      vmaxT = i32x4.max_s(vmaxT, v128.and(t, feas));
      vmaxA = i32x4.max_s(vmaxA, v128.and(a, feas));
      vfeas = i32x4.sub(vfeas, feas);
    }
    maxT = max(max(i32x4.extract_lane(vmaxT, 0), i32x4.extract_lane(vmaxT, 1)), max(i32x4.extract_lane(vmaxT, 2), i32x4.extract_lane(vmaxT, 3)));
    maxA = max(max(i32x4.extract_lane(vmaxA, 0), i32x4.extract_lane(vmaxA, 1)), max(i32x4.extract_lane(vmaxA, 2), i32x4.extract_lane(vmaxA, 3)));
    feasible = i32x4.extract_lane(vfeas, 0) + i32x4.extract_lane(vfeas, 1) + i32x4.extract_lane(vfeas, 2) + i32x4.extract_lane(vfeas, 3);
  }
  for (; i < n; i++) {
    scalarNode(i);
    if (i32At(oStatus, i) == 0) {
      feasible++;
      const t = i32At(oRawT, i);
      const a = i32At(oRawA, i);
      if (t > maxT) maxT = t;
      if (a > maxA) maxA = a;
    }
  }
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const end = n & ~3;
    simdPass2All(end, maxT, maxA);
    i = end;
  }
  for (; i < n; i++) finalScore(i, maxT, maxA);
  const best = selectBest(n);
  store<i32>(oResult, best);
  store<i32>(oResult + 4, feasible);
  return best;
}

