// Scheduler filter+score kernel (AssemblyScript). TypeScript twin: src/scheduler/kernel/twin.ts.
// Built twice by scripts/asbuild.ts: build/wasm/scheduler.wasm (SIMD) and scheduler.scalar.wasm.
// `ASC_FEATURE_SIMD` is a compile-time constant, so the scalar build contains no v128 code.
//
// Memory: the host grows memory and writes a header at address 0 holding byte offsets of every
// array (layout in src/scheduler/kernel/_layout.ts, mirrored by wasm/scheduler/_layout.ts). The
// kernel owns no memory of its own and allocates nothing. Modules: _state (header, per-pod
// parameters), _scalar (per-node reference routines), _simd (groups of four nodes, any profile),
// _fast (the fused loop for the default scoring resources and the fused pass 2), _select (best-node
// selection), this file (the exported call).
//
// Numeric contract (shared with the twin): all resource math is f64 holding integers; every
// upstream integer division is `trunc(a / b)` on f64, which equals Go's int64 division whenever
// |a| + |b| < 2^53 (the facade bounds inputs to keep that true). BalancedAllocation's fractions are
// plain f64 divisions exactly as upstream computes them. The SIMD build replaces some quotients by
// exact equivalents (f32 division of small integers, biased reciprocals; proofs in _fast.ts).

import {
  PI_SEED,
} from "./scheduler/_layout";
import {
  fastOk, i32At, oRawA, oRawT, oResult, oScore,
  oStatus, pi, prepare, readHeader,
} from "./scheduler/_state";
import {
  finalScore, scalarNode,
} from "./scheduler/_scalar";
import {
  simdPass1,
} from "./scheduler/_simd";
import {
  fastMaxA, fastMaxT, fastFeasible, fastPass1, finishSimd,
} from "./scheduler/_fast";
import {
  selBest, selectOffer, selectStart,
} from "./scheduler/_select";

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
    if (fastOk) {
      fastPass1(end);
      maxT = fastMaxT; maxA = fastMaxA; feasible = fastFeasible;
    } else {
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
    i = end;
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
  // Pass 2 (normalization, final scores) with the best-node selection riding along, in index order.
  selectStart(pi(PI_SEED));
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const end = n & ~3;
    finishSimd(end, maxT, maxA);
    i = end;
  }
  for (; i < n; i++) {
    finalScore(i, maxT, maxA);
    if (i32At(oStatus, i) == 0) selectOffer(i, i32At(oScore, i));
  }
  store<i32>(oResult, selBest);
  store<i32>(oResult + 4, feasible);
  return selBest;
}
