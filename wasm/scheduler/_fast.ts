// Fused SIMD pass 1 for the default scoring resources, and the fused pass 2 + best-node selection
// used by every SIMD call. Only referenced under ASC_FEATURE_SIMD.
//
// Why a second pass-1 loop next to _simd.ts: the general loop resolves resource columns through
// pointers in scratch memory and reloads every per-pod constant for each group of four nodes.
// Engines that bounds-check every wasm memory access explicitly (Deno 2.9 runs wasm without V8's
// trap handler: a compare and branch per load/store) pay for each of those loads. This loop covers
// the profiles nearly every cluster runs — NodeResourcesFit LeastAllocated / MostAllocated over
// cpu and/or memory, BalancedAllocation over cpu + memory — with every per-pod constant hoisted
// into locals and each node column loaded once per group (allocatable cpu/memory feed the filter,
// fit and balance alike). Results are bit-identical to the scalar routines (see the notes below).

import {
  IMG_MIN, PF_CPU, PF_MEM, PF_NZ_CPU, PF_NZ_MEM, PI_TOL_HARD,
  PI_TOL_PREFER, POD_HAS_EXTERNAL, POD_HAS_EXTRA, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR,
  POD_TOL_UNSCHED, R_AFFINITY, R_CPU, R_EXTERNAL, R_MEMORY, R_PODS,
  R_TAINT, R_UNSCHEDULABLE, S_TAINT_TABLE, STRATEGY_LEAST,
} from "./_layout";
import {
  balancedBestEffort, cap, fastOtherFit, fwCpu, fwMem, imgMax,
  nTw, oAllocCpu, oAllocMem, oAllocPods, oExternal, oExtra,
  oFlags, oImg, oNzCpu, oNzMem, oPodCount, oPref,
  oRawA, oRawT, oReqCpu, oReqMem, oScore, oScratch,
  oSel, oStatus, oTaintHard, oTaintPrefer, pf, pi,
  podFlags, strategy, wAff, wBal, wFit, wImg,
  wTaint,
} from "./_state";
import {
  balancedScore, countReasons,
} from "./_scalar";
import { divTrunc, narrow, otherFitQuad } from "./_simd";
import { selectOffer, selTop } from "./_select";

/** 2^52 + 2^51: adding it to an integral f64 in (-2^51, 2^51) leaves the integer in the low 32 bits. */
const MAGIC_F64: f64 = 6755399441055744.0;
/** 2^23: adding it to an integral f32 in [0, 2^23) leaves the integer in the low 23 bits. */
const MAGIC_F32: f32 = 8388608.0;
/** Bias for `trunc(raw * (100 / max) + BIAS)` (see normQuad). */
const NORM_BIAS: f64 = 9.313225746154785e-10; // 2^-30

/** Two f64x2 of integral values in [0, 2^31) → one i32x4 (lanes lo0, lo1, hi0, hi1). */
@inline function ints(lo: v128, hi: v128): v128 {
  const m = f64x2.splat(MAGIC_F64);
  return narrow(f64x2.add(lo, m), f64x2.add(hi, m));
}

/**
 * floor(ns / ws) per lane for integers 0 ≤ ns < 2^23, ws ≥ 0 (0 where ws = 0, then ns = 0 too).
 * f32 division is exact enough: for a non-integral quotient, ns/ws ≤ k − 1/ws with k the next
 * integer, and rounding to f32 could only reach k if 1/ws ≤ k·2^-24, i.e. ns + ws ≥ 2^24.
 */
@inline function floorDivSmall(ns: v128, ws: v128): v128 {
  const q = f32x4.trunc(f32x4.div(f32x4.convert_i32x4_s(ns), f32x4.convert_i32x4_s(i32x4.max_s(ws, i32x4.splat(1)))));
  return i32x4.sub(f32x4.add(q, f32x4.splat(MAGIC_F32)), i32x4.splat(0x4b000000));
}

/**
 * trunc(100 · raw / max) per lane for integers 0 ≤ raw ≤ max < 2^24, given k = 100 / max
 * (rounded): raw·k is within 2^-45 of the exact quotient Q ≤ 100, a non-integral Q is at least
 * 1/max > 2^-24 below the next integer, so adding 2^-30 before truncating lifts an integral Q
 * that came out a hair low and never crosses into the next integer.
 */
@inline function normQuad(raw: v128, k: v128): v128 {
  const b = f64x2.splat(NORM_BIAS);
  const lo = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(raw), k), b));
  const hi = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(raw, raw, 2, 3, 0, 1)), k), b));
  return ints(lo, hi);
}

/** LeastAllocated / MostAllocated score of one resource for two lanes, as integral f64 (NaN where a = 0). */
@inline function fitHalf(a: v128, q: v128, least: bool): v128 {
  const over = f64x2.gt(q, a);
  const h = f64x2.splat(100);
  if (least) return v128.andnot(f64x2.trunc(f64x2.div(f64x2.mul(f64x2.sub(a, q), h), a)), over);
  return f64x2.trunc(f64x2.div(f64x2.mul(v128.bitselect(a, q, over), h), a));
}

/** BalancedAllocation over two fractions for two lanes (allocatable non-zero), as integral f64. */
@inline function balancedHalf(aC: v128, qC: v128, aM: v128, qM: v128): v128 {
  const one = f64x2.splat(1);
  // pmin(f, 1) = 1 < f ? 1 : f, i.e. the clamp `if (f > 1) f = 1`.
  const fC = f64x2.pmin(f64x2.div(qC, aC), one);
  const fM = f64x2.pmin(f64x2.div(qM, aM), one);
  // |(fC − fM) · 0.5| = |(f0 − f1) / 2| whatever the order of the two resources.
  const std = f64x2.abs(f64x2.mul(f64x2.sub(fC, fM), f64x2.splat(0.5)));
  return f64x2.trunc(f64x2.mul(f64x2.sub(one, std), f64x2.splat(100)));
}

// Pass-1 results of fastPass1 (read by filterAndScore).
export let fastMaxT: i32 = 0;
export let fastMaxA: i32 = 0;
export let fastFeasible: i32 = 0;

/** Pass 1 (filter, base score, raw taint / affinity) over groups [0, end) for the default resources. */
export function fastPass1(end: i32): void {
  const zero = i32x4.splat(0);
  const fz = f64x2.splat(0);
  const c = pf(PF_CPU);
  const m = pf(PF_MEM);
  const cV = f64x2.splat(c);
  const mV = f64x2.splat(m);
  // Insufficient cpu / memory only when the pod requests it (upstream: request > 0 && …).
  const rCpu = i32x4.splat(c > 0 ? R_CPU : 0);
  const rMem = i32x4.splat(m > 0 ? R_MEMORY : 0);
  const uMask = i32x4.splat((podFlags & POD_TOL_UNSCHED) == 0 ? 1 : 0);
  const tolH = i32x4.splat(pi(PI_TOL_HARD));
  const tolP = i32x4.splat(pi(PI_TOL_PREFER));
  const nib = i32x4(1, 2, 4, 8);
  const one = i32x4.splat(1);
  const tw = nTw;
  const rowBytes = <usize>cap << 2;
  const hasSel = (podFlags & POD_HAS_SELECTOR) != 0;
  const hasExternal = (podFlags & POD_HAS_EXTERNAL) != 0;
  const hasPref = (podFlags & POD_HAS_PREFERRED) != 0;
  const hasExtra = (podFlags & POD_HAS_EXTRA) != 0;
  const doImg = wImg != 0 && (podFlags & POD_HAS_IMAGES) != 0;
  const otherFit = fastOtherFit;
  const doFit = wFit != 0;
  const least = strategy == STRATEGY_LEAST;
  const doBal = wBal != 0 && !balancedBestEffort;
  const nzC = f64x2.splat(pf(PF_NZ_CPU));
  const nzM = f64x2.splat(pf(PF_NZ_MEM));
  const wc = i32x4.splat(fwCpu);
  const wm = i32x4.splat(fwMem);
  const wF = i32x4.splat(wFit);
  const wB = i32x4.splat(wBal);
  const wI = i32x4.splat(wImg);
  const imgMn = f64x2.splat(IMG_MIN);
  const imgMx = f64x2.splat(imgMax);
  const imgSpan = f64x2.splat(imgMax - IMG_MIN);
  const imgInv = f64x2.splat(1 / (imgMax - IMG_MIN));
  const h = f64x2.splat(100);
  const aFlags = oFlags, aHard = oTaintHard, aPrefT = oTaintPrefer, aPodCount = oPodCount, aAllocPods = oAllocPods;
  const aAC = oAllocCpu, aAM = oAllocMem, aRC = oReqCpu, aRM = oReqMem, aNC = oNzCpu, aNM = oNzMem;
  const aSel = oSel, aExt = oExternal, aImg = oImg, aExtra = oExtra, aPref = oPref;
  const aStatus = oStatus, aScore = oScore, aRawT = oRawT, aRawA = oRawA;
  let vmaxT = zero;
  let vmaxA = zero;
  let vfeas = zero;
  for (let i: i32 = 0; i < end; i += 4) {
    const i4 = <usize>i << 2;
    const i8 = <usize>i << 3;
    // ---- filter, in the framework's plugin order; a node keeps its first failing plugin ----
    const mU = i32x4.ne(v128.and(v128.load(aFlags + i4), uMask), zero);
    let bad = v128.andnot(v128.load(aHard + i4), tolH);
    for (let w = 1; w < tw; w++) {
      bad = v128.or(bad, v128.andnot(v128.load(aHard + <usize>w * rowBytes + i4), i32x4.splat(pi(PI_TOL_HARD + w))));
    }
    const mT = v128.andnot(i32x4.ne(bad, zero), mU);
    let prior = v128.or(mU, mT);
    let mA = zero;
    if (hasSel) {
      const bits = (load<u32>(aSel + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 0xf;
      mA = v128.andnot(i32x4.eq(v128.and(i32x4.splat(bits), nib), zero), prior);
      prior = v128.or(prior, mA);
    }
    const aC0 = v128.load(aAC + i8); const aC1 = v128.load(aAC + i8, 16);
    const aM0 = v128.load(aAM + i8); const aM1 = v128.load(aAM + i8, 16);
    const rC0 = v128.load(aRC + i8); const rC1 = v128.load(aRC + i8, 16);
    const rM0 = v128.load(aRM + i8); const rM1 = v128.load(aRM + i8, 16);
    let fit = v128.and(i32x4.gt_s(i32x4.add(v128.load(aPodCount + i4), one), v128.load(aAllocPods + i4)), i32x4.splat(R_PODS));
    fit = v128.or(fit, v128.and(narrow(f64x2.gt(cV, f64x2.sub(aC0, rC0)), f64x2.gt(cV, f64x2.sub(aC1, rC1))), rCpu));
    fit = v128.or(fit, v128.and(narrow(f64x2.gt(mV, f64x2.sub(aM0, rM0)), f64x2.gt(mV, f64x2.sub(aM1, rM1))), rMem));
    if (otherFit) fit = v128.or(fit, otherFitQuad(i));
    fit = v128.andnot(fit, prior);
    let status = v128.or(v128.or(v128.and(mU, i32x4.splat(R_UNSCHEDULABLE)), v128.and(mT, i32x4.splat(R_TAINT))),
      v128.or(v128.and(mA, i32x4.splat(R_AFFINITY)), fit));
    if (hasExternal) {
      prior = v128.or(prior, i32x4.ne(fit, zero));
      const bits = (load<u32>(aExt + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 0xf;
      const mX = v128.andnot(i32x4.ne(v128.and(i32x4.splat(bits), nib), zero), prior);
      status = v128.or(status, v128.and(mX, i32x4.splat(R_EXTERNAL)));
    }
    v128.store(aStatus + i4, status);
    const feas = i32x4.eq(status, zero);
    if (v128.any_true(status)) {
      // Lanes straight from the register (a feasible lane's 0 counts nothing).
      countReasons(i32x4.extract_lane(status, 0));
      countReasons(i32x4.extract_lane(status, 1));
      countReasons(i32x4.extract_lane(status, 2));
      countReasons(i32x4.extract_lane(status, 3));
    }

    // ---- base score: fit + balanced + image (+ extra) ----
    let base = zero;
    if (doFit) {
      const sC = ints(fitHalf(aC0, f64x2.add(v128.load(aNC + i8), nzC), least), fitHalf(aC1, f64x2.add(v128.load(aNC + i8, 16), nzC), least));
      const sM = ints(fitHalf(aM0, f64x2.add(v128.load(aNM + i8), nzM), least), fitHalf(aM1, f64x2.add(v128.load(aNM + i8, 16), nzM), least));
      // Resources with allocatable 0 are left out, weight included.
      const wcl = v128.and(wc, narrow(f64x2.ne(aC0, fz), f64x2.ne(aC1, fz)));
      const wml = v128.and(wm, narrow(f64x2.ne(aM0, fz), f64x2.ne(aM1, fz)));
      // Lanes left out have weight 0 here, so whatever their score lane holds drops out.
      const ns = i32x4.add(i32x4.mul(sC, wcl), i32x4.mul(sM, wml));
      base = i32x4.mul(floorDivSmall(ns, i32x4.add(wcl, wml)), wF);
    }
    if (doBal) {
      let bal: v128;
      const anyZero = v128.or(v128.or(f64x2.eq(aC0, fz), f64x2.eq(aC1, fz)), v128.or(f64x2.eq(aM0, fz), f64x2.eq(aM1, fz)));
      if (!v128.any_true(anyZero)) {
        bal = ints(balancedHalf(aC0, f64x2.add(rC0, cV), aM0, f64x2.add(rM0, mV)), balancedHalf(aC1, f64x2.add(rC1, cV), aM1, f64x2.add(rM1, mV)));
      } else {
        // A resource with allocatable 0 drops out: fewer than two fractions, the scalar routine.
        bal = i32x4(balancedScore(i), balancedScore(i + 1), balancedScore(i + 2), balancedScore(i + 3));
      }
      base = i32x4.add(base, i32x4.mul(bal, wB));
    }
    if (doImg) {
      let lo = v128.load(aImg + i8); let hi = v128.load(aImg + i8, 16);
      lo = v128.bitselect(imgMn, v128.bitselect(imgMx, lo, f64x2.gt(lo, imgMx)), f64x2.lt(lo, imgMn));
      hi = v128.bitselect(imgMn, v128.bitselect(imgMx, hi, f64x2.gt(hi, imgMx)), f64x2.lt(hi, imgMn));
      const img = ints(divTrunc(f64x2.mul(h, f64x2.sub(lo, imgMn)), imgSpan, imgInv), divTrunc(f64x2.mul(h, f64x2.sub(hi, imgMn)), imgSpan, imgInv));
      base = i32x4.add(base, i32x4.mul(img, wI));
    }
    if (hasExtra) base = i32x4.add(base, v128.load(aExtra + i4));

    // ---- raw inputs of the normalized plugins ----
    let t = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.andnot(v128.load(aPrefT + i4), tolP))));
    for (let w = 1; w < tw; w++) {
      const bits = v128.andnot(v128.load(aPrefT + <usize>w * rowBytes + i4), i32x4.splat(pi(PI_TOL_PREFER + w)));
      t = i32x4.add(t, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(bits))));
    }
    t = v128.and(t, feas);
    v128.store(aScore + i4, v128.and(base, feas));
    v128.store(aRawT + i4, t);
    vmaxT = i32x4.max_s(vmaxT, t);
    // Raw affinity is only read back when the maximum is non-zero, which needs preferred weights.
    if (hasPref) {
      const a = v128.and(v128.load(aPref + i4), feas);
      v128.store(aRawA + i4, a);
      vmaxA = i32x4.max_s(vmaxA, a);
    }
    vfeas = i32x4.sub(vfeas, feas);
  }
  fastMaxT = max(max(i32x4.extract_lane(vmaxT, 0), i32x4.extract_lane(vmaxT, 1)), max(i32x4.extract_lane(vmaxT, 2), i32x4.extract_lane(vmaxT, 3)));
  fastMaxA = max(max(i32x4.extract_lane(vmaxA, 0), i32x4.extract_lane(vmaxA, 1)), max(i32x4.extract_lane(vmaxA, 2), i32x4.extract_lane(vmaxA, 3)));
  fastFeasible = i32x4.extract_lane(vfeas, 0) + i32x4.extract_lane(vfeas, 1) + i32x4.extract_lane(vfeas, 2) + i32x4.extract_lane(vfeas, 3);
}

/**
 * Pass 2 over groups [0, end): reversed TaintToleration and NodeAffinity normalization, final
 * scores, and the best-node selection for those nodes.
 */
export function finishSimd(end: i32, maxT: i32, maxA: i32): void {
  const zero = i32x4.splat(0);
  const taintMode = wTaint == 0 ? 0 : maxT == 0 ? 1 : maxT <= 15 ? 2 : 3;
  let table = zero;
  if (taintMode == 2) {
    // Counts 0..15 index a 16-byte table (lane bytes 1..3 are 0 and masked off afterwards).
    for (let t = 0; t < 16; t++) {
      store<u8>(oScratch + S_TAINT_TABLE + <usize>t, <u8>(t > maxT ? 0 : 100 - <i32>trunc(100.0 * <f64>t / <f64>maxT)));
    }
    table = v128.load(oScratch + S_TAINT_TABLE);
  }
  const kT = f64x2.splat(100.0 / <f64>max(maxT, 1));
  const doAff = wAff != 0 && maxA != 0;
  const kA = f64x2.splat(100.0 / <f64>max(maxA, 1));
  const wT = i32x4.splat(wTaint);
  const wA = i32x4.splat(wAff);
  const hundred = i32x4.splat(100);
  const ff = i32x4.splat(0xff);
  const aStatus = oStatus, aScore = oScore, aRawT = oRawT, aRawA = oRawA;
  for (let i: i32 = 0; i < end; i += 4) {
    const i4 = <usize>i << 2;
    let total = v128.load(aScore + i4);
    if (taintMode == 1) {
      total = i32x4.add(total, i32x4.mul(hundred, wT));
    } else if (taintMode == 2) {
      total = i32x4.add(total, i32x4.mul(v128.and(i8x16.swizzle(table, v128.load(aRawT + i4)), ff), wT));
    } else if (taintMode == 3) {
      total = i32x4.add(total, i32x4.mul(i32x4.sub(hundred, normQuad(v128.load(aRawT + i4), kT)), wT));
    }
    if (doAff) total = i32x4.add(total, i32x4.mul(normQuad(v128.load(aRawA + i4), kA), wA));
    const feas = i32x4.eq(v128.load(aStatus + i4), zero);
    total = v128.and(total, feas);
    v128.store(aScore + i4, total);
    // Lanes that could change the selection: feasible and at least the current top.
    if (v128.any_true(v128.and(i32x4.ge_s(total, i32x4.splat(selTop)), feas))) {
      for (let l = 0; l < 4; l++) {
        const p = i4 + (<usize>l << 2);
        if (load<i32>(aStatus + p) == 0) selectOffer(i + l, load<i32>(aScore + p));
      }
    }
  }
}
