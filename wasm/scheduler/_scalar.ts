// Scalar per-node routines: the reference the SIMD path must match, mirrored by the TypeScript twin.

import {
  IMG_MIN, PF_CPU, PF_EPH, PF_EXT, PF_MEM, PI_BAL_N,
  PI_BAL_RES, PI_FIT_N, PI_FIT_RES, PI_FIT_W, PI_TOL_HARD, PI_TOL_PREFER,
  POD_HAS_EXTERNAL, POD_HAS_EXTRA, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR, POD_TOL_UNSCHED,
  R_AFFINITY, R_CPU, R_EPHEMERAL, R_EXT0, R_EXTERNAL, R_MEMORY,
  R_PODS, R_TAINT, R_UNSCHEDULABLE, STRATEGY_LEAST, STRATEGY_MOST,
} from "./_layout";
import {
  allocOf, balancedBestEffort, bitAt, f64At, i32At, imgMax,
  nExt, nTw, oAllocCpu, oAllocEph, oAllocExt, oAllocMem,
  oAllocPods, oExternal, oExtra, oFlags, oImg, oPodCount,
  oPref, oRawA, oRawT, oReasons, oReqCpu, oReqEph,
  oReqExt, oReqMem, oRtcr, oScore, oSel, oStatus,
  oTaintHard, oTaintPrefer, pf, pi, podFlags, podZero,
  requestedOf, rowF64, rowI32, skipped, strategy, wAff,
  wBal, wFit, wImg, wTaint,
} from "./_state";

// ---- scalar per-node pieces (the reference for the SIMD path, mirrored by the twin) ----

export function filterNode(i: i32): i32 {
  if ((i32At(oFlags, i) & 1) != 0 && (podFlags & POD_TOL_UNSCHED) == 0) return R_UNSCHEDULABLE;
  let bad: i32 = 0;
  for (let w = 0; w < nTw; w++) bad |= i32At(rowI32(oTaintHard, w), i) & ~pi(PI_TOL_HARD + w);
  if (bad != 0) return R_TAINT;
  if ((podFlags & POD_HAS_SELECTOR) != 0 && bitAt(oSel, i) == 0) return R_AFFINITY;
  let fit: i32 = 0;
  if (i32At(oPodCount, i) + 1 > i32At(oAllocPods, i)) fit |= R_PODS;
  if (!podZero) {
    const c = pf(PF_CPU);
    if (c > 0 && c > f64At(oAllocCpu, i) - f64At(oReqCpu, i)) fit |= R_CPU;
    const m = pf(PF_MEM);
    if (m > 0 && m > f64At(oAllocMem, i) - f64At(oReqMem, i)) fit |= R_MEMORY;
    const e = pf(PF_EPH);
    if (e > 0 && e > f64At(oAllocEph, i) - f64At(oReqEph, i)) fit |= R_EPHEMERAL;
    for (let k = 0; k < nExt; k++) {
      const x = pf(PF_EXT + k);
      if (x > 0 && x > f64At(rowF64(oAllocExt, k), i) - f64At(rowF64(oReqExt, k), i)) fit |= R_EXT0 << k;
    }
  }
  if (fit != 0) return fit;
  if ((podFlags & POD_HAS_EXTERNAL) != 0 && bitAt(oExternal, i) != 0) return R_EXTERNAL;
  return 0;
}

export function fitScore(i: i32): i32 {
  const n = pi(PI_FIT_N);
  let nodeScore: f64 = 0;
  let weightSum: f64 = 0;
  for (let j = 0; j < n; j++) {
    const r = pi(PI_FIT_RES + j);
    if (skipped(r, true)) continue;
    const a = allocOf(r, i);
    if (a == 0) continue;
    const q = requestedOf(r, i, true);
    const w = <f64>pi(PI_FIT_W + j);
    let s: f64;
    if (strategy == STRATEGY_LEAST) {
      s = q > a ? 0 : trunc((a - q) * 100 / a);
    } else if (strategy == STRATEGY_MOST) {
      s = trunc((q > a ? a : q) * 100 / a);
    } else {
      const p = q <= 0 ? 0 : q >= a ? 100 : <i32>trunc(q * 100 / a);
      s = <f64>load<i32>(oRtcr + (<usize>p << 2));
      if (s <= 0) continue;
    }
    nodeScore += s * w;
    weightSum += w;
  }
  if (weightSum == 0) return 0;
  const x = nodeScore / weightSum;
  if (strategy == STRATEGY_LEAST || strategy == STRATEGY_MOST) return <i32>trunc(x);
  const f = floor(x);
  return <i32>(x - f >= 0.5 ? f + 1 : f);
}

export function balancedScore(i: i32): i32 {
  if (balancedBestEffort) return 0;
  const n = pi(PI_BAL_N);
  let count: i32 = 0;
  let total: f64 = 0;
  let f0: f64 = 0; let f1: f64 = 0;
  for (let j = 0; j < n; j++) {
    const r = pi(PI_BAL_RES + j);
    if (skipped(r, false)) continue;
    const a = allocOf(r, i);
    if (a == 0) continue;
    let f = requestedOf(r, i, false) / a;
    if (f > 1) f = 1;
    total += f;
    if (count == 0) f0 = f; else if (count == 1) f1 = f;
    count++;
  }
  let std: f64 = 0;
  if (count == 2) {
    std = abs((f0 - f1) / 2);
  } else if (count > 2) {
    const mean = total / <f64>count;
    let sum: f64 = 0;
    for (let j = 0; j < n; j++) {
      const r = pi(PI_BAL_RES + j);
      if (skipped(r, false)) continue;
      const a = allocOf(r, i);
      if (a == 0) continue;
      let f = requestedOf(r, i, false) / a;
      if (f > 1) f = 1;
      sum = sum + (f - mean) * (f - mean);
    }
    std = sqrt(sum / <f64>count);
  }
  return <i32>trunc((1 - std) * 100);
}

export function imageScore(i: i32): i32 {
  if ((podFlags & POD_HAS_IMAGES) == 0) return 0;
  let s = f64At(oImg, i);
  if (s < IMG_MIN) s = IMG_MIN; else if (s > imgMax) s = imgMax;
  return <i32>trunc(100 * (s - IMG_MIN) / (imgMax - IMG_MIN));
}

export function taintCount(i: i32): i32 {
  let c: i32 = 0;
  for (let w = 0; w < nTw; w++) c += popcnt(i32At(rowI32(oTaintPrefer, w), i) & ~pi(PI_TOL_PREFER + w));
  return c;
}

/** Pass-1 work for one node: status, base score, raw taint / affinity scores. */
export function scalarNode(i: i32): void {
  const st = filterNode(i);
  store<i32>(oStatus + (<usize>i << 2), st);
  let base: i32 = 0; let t: i32 = 0; let a: i32 = 0;
  if (st == 0) {
    if (wFit != 0) base += wFit * fitScore(i);
    if (wBal != 0) base += wBal * balancedScore(i);
    if (wImg != 0) base += wImg * imageScore(i);
    if ((podFlags & POD_HAS_EXTRA) != 0) base += i32At(oExtra, i);
    t = taintCount(i);
    if ((podFlags & POD_HAS_PREFERRED) != 0) a = i32At(oPref, i);
  } else {
    countReasons(st);
  }
  store<i32>(oScore + (<usize>i << 2), base);
  store<i32>(oRawT + (<usize>i << 2), t);
  store<i32>(oRawA + (<usize>i << 2), a);
}

@inline export function countReasons(st: i32): void {
  let bits = st;
  while (bits != 0) {
    const b = ctz(bits);
    const p = oReasons + (<usize>b << 2);
    store<i32>(p, load<i32>(p) + 1);
    bits &= bits - 1;
  }
}

/** Pass 2 for one node: normalized TaintToleration (reversed) and NodeAffinity, final sum. */
@inline export function finalScore(i: i32, maxT: i32, maxA: i32): void {
  const p = oScore + (<usize>i << 2);
  if (i32At(oStatus, i) != 0) { store<i32>(p, 0); return; }
  let total = load<i32>(p);
  const t = i32At(oRawT, i);
  const a = i32At(oRawA, i);
  total += wTaint * (maxT == 0 ? 100 : 100 - <i32>trunc(100.0 * <f64>t / <f64>maxT));
  total += wAff * (maxA == 0 ? 0 : <i32>trunc(100.0 * <f64>a / <f64>maxA));
  store<i32>(p, total);
}

