// SIMD path (v128 over groups of four nodes). Only referenced under ASC_FEATURE_SIMD, so the
// scalar build never compiles it.

import {
  IMG_MIN, PF_CPU, PF_EPH, PF_EXT, PF_MEM, PI_TOL_HARD,
  PI_TOL_PREFER, POD_HAS_EXTERNAL, POD_HAS_EXTRA, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR,
  POD_TOL_UNSCHED, R_AFFINITY, R_CPU, R_EPHEMERAL, R_EXT0, R_EXTERNAL,
  R_MEMORY, R_PODS, R_TAINT, R_UNSCHEDULABLE, STRATEGY_LEAST, STRATEGY_MOST,
  S_BAL_ALLOC, S_BAL_POD, S_BAL_REQ, S_FIT_ALLOC, S_FIT_POD, S_FIT_REQ,
  S_FIT_W, S_TAINT_TABLE,
} from "./_layout";
import {
  balActive, balancedBestEffort, fitActive, fitWeightInv, fitWeightSum, imgMax,
  nExt, nTw, oAllocCpu, oAllocEph, oAllocExt, oAllocMem,
  oAllocPods, oExternal, oExtra, oFlags, oImg, oPodCount,
  oPref, oRawA, oRawT, oReqCpu, oReqEph, oReqExt,
  oReqMem, oScore, oScratch, oSel, oStatus, oTaintHard,
  oTaintPrefer, pf, pi, podFlags, podZero, rowF64,
  rowI32, strategy, wAff, wBal, wFit, wImg,
  wTaint,
} from "./_state";
import {
  balancedScore, countReasons, fitScore,
} from "./_scalar";

// ---- SIMD path (compiled only with --enable simd) ----

/** Low 32 bits of each 64-bit lane of `lo` and `hi` → one i32x4 (f64x2 masks and truncations). */
@inline export function narrow(lo: v128, hi: v128): v128 {
  return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}
/** Two f64x2 of integral values → one i32x4 (lanes lo0, lo1, hi0, hi1). */
@inline export function toI32(lo: v128, hi: v128): v128 {
  return i8x16.shuffle(i32x4.trunc_sat_f64x2_s_zero(lo), i32x4.trunc_sat_f64x2_s_zero(hi),
    0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
@inline export function ldF(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 3)); }
@inline export function ldF2(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 3), 16); }

/**
 * trunc(a / b) for integral 0 ≤ a, 0 < b, a + b < 2^53, quotient ≤ 2^20, without a division:
 * multiply by the reciprocal (off by at most one) and correct with exact integer products.
 */
@inline export function divTrunc(a: v128, b: v128, inv: v128): v128 {
  const one = f64x2.splat(1);
  let q = f64x2.trunc(f64x2.mul(a, inv));
  const qb = f64x2.mul(q, b);
  q = f64x2.add(q, v128.and(f64x2.le(f64x2.add(qb, b), a), one));
  return f64x2.sub(q, v128.and(f64x2.gt(qb, a), one));
}

/** f64 mask (lo, hi pairs) of `need > alloc - requested`. */
@inline export function short(need: f64, allocB: usize, reqB: usize, i: i32): v128 {
  const v = f64x2.splat(need);
  return narrow(f64x2.gt(v, f64x2.sub(ldF(allocB, i), ldF(reqB, i))), f64x2.gt(v, f64x2.sub(ldF2(allocB, i), ldF2(reqB, i))));
}

/** Insufficient ephemeral-storage / extended-resource reasons for 4 lanes (requested ones only). */
export function otherFitQuad(i: i32): v128 {
  let fit = i32x4.splat(0);
  const e = pf(PF_EPH);
  if (e > 0) fit = v128.or(fit, v128.and(short(e, oAllocEph, oReqEph, i), i32x4.splat(R_EPHEMERAL)));
  for (let k = 0; k < nExt; k++) {
    const x = pf(PF_EXT + k);
    if (x > 0) fit = v128.or(fit, v128.and(short(x, rowF64(oAllocExt, k), rowF64(oReqExt, k), i), i32x4.splat(R_EXT0 << k)));
  }
  return fit;
}

/** Fit score for 4 lanes (Least/Most strategies), as i32x4. */
@inline export function fitQuad(i: i32): v128 {
  let ns0 = f64x2.splat(0); let ns1 = ns0; let ws0 = ns0; let ws1 = ns0;
  const zero = f64x2.splat(0);
  const hundred = f64x2.splat(100);
  const least = strategy == STRATEGY_LEAST;
  const at = <usize>i << 3;
  for (let j = 0; j < fitActive; j++) {
    const aB = <usize>load<u32>(oScratch + S_FIT_ALLOC + (<usize>j << 2)) + at;
    const qB = <usize>load<u32>(oScratch + S_FIT_REQ + (<usize>j << 2)) + at;
    const pod = f64x2.splat(load<f64>(oScratch + S_FIT_POD + (<usize>j << 3)));
    const w = f64x2.splat(load<f64>(oScratch + S_FIT_W + (<usize>j << 3)));
    const a0 = v128.load(aB); const a1 = v128.load(aB, 16);
    const q0 = f64x2.add(v128.load(qB), pod); const q1 = f64x2.add(v128.load(qB, 16), pod);
    const over0 = f64x2.gt(q0, a0); const over1 = f64x2.gt(q1, a1);
    let s0: v128; let s1: v128;
    // Lanes with allocatable 0 divide by zero and are masked out by `inc` below.
    // (Replacing these divisions by stored reciprocals measured no faster here: the loop is
    // bound by instruction count, not by divpd.)
    if (least) {
      s0 = v128.andnot(f64x2.trunc(f64x2.div(f64x2.mul(f64x2.sub(a0, q0), hundred), a0)), over0);
      s1 = v128.andnot(f64x2.trunc(f64x2.div(f64x2.mul(f64x2.sub(a1, q1), hundred), a1)), over1);
    } else {
      s0 = f64x2.trunc(f64x2.div(f64x2.mul(v128.bitselect(a0, q0, over0), hundred), a0));
      s1 = f64x2.trunc(f64x2.div(f64x2.mul(v128.bitselect(a1, q1, over1), hundred), a1));
    }
    const inc0 = f64x2.ne(a0, zero); const inc1 = f64x2.ne(a1, zero);
    ns0 = f64x2.add(ns0, v128.and(f64x2.mul(s0, w), inc0));
    ns1 = f64x2.add(ns1, v128.and(f64x2.mul(s1, w), inc1));
    ws0 = f64x2.add(ws0, v128.and(w, inc0));
    ws1 = f64x2.add(ws1, v128.and(w, inc1));
  }
  const full = f64x2.splat(fitWeightSum);
  if (fitWeightSum > 0 && !v128.any_true(v128.or(f64x2.ne(ws0, full), f64x2.ne(ws1, full)))) {
    const inv = f64x2.splat(fitWeightInv);
    return toI32(divTrunc(ns0, full, inv), divTrunc(ns1, full, inv));
  }
  return toI32(v128.and(f64x2.trunc(f64x2.div(ns0, ws0)), f64x2.ne(ws0, zero)), v128.and(f64x2.trunc(f64x2.div(ns1, ws1)), f64x2.ne(ws1, zero)));
}

/** BalancedAllocation for 2 lanes when exactly cpu+memory style (2 resources, non-zero allocatable). */
@inline export function balancedPair(fa0: v128, fq0: v128, fa1: v128, fq1: v128): v128 {
  const one = f64x2.splat(1);
  let f0 = f64x2.div(fq0, fa0);
  f0 = v128.bitselect(one, f0, f64x2.gt(f0, one));
  let f1 = f64x2.div(fq1, fa1);
  f1 = v128.bitselect(one, f1, f64x2.gt(f1, one));
  // x * 0.5 rounds the same real value as upstream's x / 2, so the result is bit-identical.
  const std = f64x2.abs(f64x2.mul(f64x2.sub(f0, f1), f64x2.splat(0.5)));
  return f64x2.trunc(f64x2.mul(f64x2.sub(one, std), f64x2.splat(100)));
}

export function simdPass1(i: i32): v128 {
  const zero = i32x4.splat(0);
  const flags = v128.load(oFlags + (<usize>i << 2));
  let mU = zero;
  if ((podFlags & POD_TOL_UNSCHED) == 0) mU = i32x4.ne(v128.and(flags, i32x4.splat(1)), zero);
  let bad = zero;
  for (let w = 0; w < nTw; w++) {
    bad = v128.or(bad, v128.andnot(v128.load(rowI32(oTaintHard, w) + (<usize>i << 2)), i32x4.splat(pi(PI_TOL_HARD + w))));
  }
  let mT = v128.andnot(i32x4.ne(bad, zero), mU);
  let prior = v128.or(mU, mT);
  let mA = zero;
  if ((podFlags & POD_HAS_SELECTOR) != 0) {
    const nib = (load<u32>(oSel + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 0xf;
    mA = v128.andnot(i32x4.eq(v128.and(i32x4.splat(nib), i32x4(1, 2, 4, 8)), zero), prior);
    prior = v128.or(prior, mA);
  }
  let fit = v128.and(i32x4.gt_s(i32x4.add(v128.load(oPodCount + (<usize>i << 2)), i32x4.splat(1)), v128.load(oAllocPods + (<usize>i << 2))), i32x4.splat(R_PODS));
  if (!podZero) {
    const c = pf(PF_CPU);
    if (c > 0) fit = v128.or(fit, v128.and(short(c, oAllocCpu, oReqCpu, i), i32x4.splat(R_CPU)));
    const m = pf(PF_MEM);
    if (m > 0) fit = v128.or(fit, v128.and(short(m, oAllocMem, oReqMem, i), i32x4.splat(R_MEMORY)));
    const e = pf(PF_EPH);
    if (e > 0) fit = v128.or(fit, v128.and(short(e, oAllocEph, oReqEph, i), i32x4.splat(R_EPHEMERAL)));
    for (let k = 0; k < nExt; k++) {
      const x = pf(PF_EXT + k);
      if (x > 0) fit = v128.or(fit, v128.and(short(x, rowF64(oAllocExt, k), rowF64(oReqExt, k), i), i32x4.splat(R_EXT0 << k)));
    }
  }
  fit = v128.andnot(fit, prior);
  prior = v128.or(prior, i32x4.ne(fit, zero));
  let status = v128.or(v128.or(v128.and(mU, i32x4.splat(R_UNSCHEDULABLE)), v128.and(mT, i32x4.splat(R_TAINT))),
    v128.or(v128.and(mA, i32x4.splat(R_AFFINITY)), fit));
  if ((podFlags & POD_HAS_EXTERNAL) != 0) {
    const nib = (load<u32>(oExternal + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 0xf;
    const mX = v128.andnot(i32x4.ne(v128.and(i32x4.splat(nib), i32x4(1, 2, 4, 8)), zero), prior);
    status = v128.or(status, v128.and(mX, i32x4.splat(R_EXTERNAL)));
  }
  v128.store(oStatus + (<usize>i << 2), status);
  const feas = i32x4.eq(status, zero);
  if (v128.any_true(status)) {
    for (let l = 0; l < 4; l++) {
      const st = load<i32>(oStatus + (<usize>(i + l) << 2));
      if (st != 0) countReasons(st);
    }
  }

  // scores
  let base = zero;
  if (wFit != 0) {
    let fitV: v128;
    if (strategy == STRATEGY_LEAST || strategy == STRATEGY_MOST) {
      fitV = fitQuad(i);
    } else {
      fitV = i32x4(fitScore(i), fitScore(i + 1), fitScore(i + 2), fitScore(i + 3));
    }
    base = i32x4.add(base, i32x4.mul(fitV, i32x4.splat(wFit)));
  }
  if (wBal != 0 && !balancedBestEffort) {
    let balV: v128 = zero;
    let fast = false;
    if (balActive == 2) {
      const at = <usize>i << 3;
      const a0B = <usize>load<u32>(oScratch + S_BAL_ALLOC) + at;
      const a1B = <usize>load<u32>(oScratch + S_BAL_ALLOC + 4) + at;
      const a0l = v128.load(a0B); const a0h = v128.load(a0B, 16);
      const a1l = v128.load(a1B); const a1h = v128.load(a1B, 16);
      const fz = f64x2.splat(0);
      const anyZero = v128.or(v128.or(f64x2.eq(a0l, fz), f64x2.eq(a0h, fz)), v128.or(f64x2.eq(a1l, fz), f64x2.eq(a1h, fz)));
      if (!v128.any_true(anyZero)) {
        fast = true;
        const q0B = <usize>load<u32>(oScratch + S_BAL_REQ) + at;
        const q1B = <usize>load<u32>(oScratch + S_BAL_REQ + 4) + at;
        const p0 = f64x2.splat(load<f64>(oScratch + S_BAL_POD));
        const p1 = f64x2.splat(load<f64>(oScratch + S_BAL_POD + 8));
        balV = toI32(balancedPair(a0l, f64x2.add(v128.load(q0B), p0), a1l, f64x2.add(v128.load(q1B), p1)),
          balancedPair(a0h, f64x2.add(v128.load(q0B, 16), p0), a1h, f64x2.add(v128.load(q1B, 16), p1)));
      }
    }
    if (!fast) balV = i32x4(balancedScore(i), balancedScore(i + 1), balancedScore(i + 2), balancedScore(i + 3));
    base = i32x4.add(base, i32x4.mul(balV, i32x4.splat(wBal)));
  }
  if (wImg != 0 && (podFlags & POD_HAS_IMAGES) != 0) {
    const mn = f64x2.splat(IMG_MIN);
    const mx = f64x2.splat(imgMax);
    const span = f64x2.splat(imgMax - IMG_MIN);
    const h = f64x2.splat(100);
    let lo = ldF(oImg, i); let hi = ldF2(oImg, i);
    lo = v128.bitselect(mn, v128.bitselect(mx, lo, f64x2.gt(lo, mx)), f64x2.lt(lo, mn));
    hi = v128.bitselect(mn, v128.bitselect(mx, hi, f64x2.gt(hi, mx)), f64x2.lt(hi, mn));
    const inv = f64x2.splat(1 / (imgMax - IMG_MIN));
    const img = toI32(divTrunc(f64x2.mul(h, f64x2.sub(lo, mn)), span, inv), divTrunc(f64x2.mul(h, f64x2.sub(hi, mn)), span, inv));
    base = i32x4.add(base, i32x4.mul(img, i32x4.splat(wImg)));
  }
  if ((podFlags & POD_HAS_EXTRA) != 0) base = i32x4.add(base, v128.load(oExtra + (<usize>i << 2)));
  let t = zero;
  for (let w = 0; w < nTw; w++) {
    const bits = v128.andnot(v128.load(rowI32(oTaintPrefer, w) + (<usize>i << 2)), i32x4.splat(pi(PI_TOL_PREFER + w)));
    t = i32x4.add(t, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(bits))));
  }
  let a = zero;
  if ((podFlags & POD_HAS_PREFERRED) != 0) a = v128.load(oPref + (<usize>i << 2));
  v128.store(oScore + (<usize>i << 2), v128.and(base, feas));
  v128.store(oRawT + (<usize>i << 2), v128.and(t, feas));
  v128.store(oRawA + (<usize>i << 2), v128.and(a, feas));
  return feas;
}
