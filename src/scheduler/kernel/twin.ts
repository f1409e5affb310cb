/**
 * The TypeScript twin of wasm/scheduler.ts: the same filter + score over the same layout, written
 * as the plain reference. Every arithmetic step matches the scalar kernel operation for operation
 * (f64 values holding integers, `Math.trunc(a / b)` for Go's int64 division, upstream's float
 * formula for BalancedAllocation), so results are bit-identical.
 */
import { PF, PI, POD_HAS_EXTERNAL_FILTER, POD_HAS_EXTRA_SCORE, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR,
  POD_TOLERATES_UNSCHEDULABLE, RESULT_BEST, RESULT_FEASIBLE } from "./_layout.ts";
import type { Views } from "./_state.ts";
import { Reason, REASON_COUNT } from "./types.ts";

const MB = 1048576;
const IMG_MIN = 23 * MB;
const IMG_MAX_PER_CONTAINER = 1000 * MB;

/** Runs one filter+score over nodes [0, n) of `v`; returns the best node (-1 if none). */
export function filterAndScoreTwin(v: Views, n: number): number {
  const c = v.layout.capacity;
  const nExt = v.layout.ext;
  const nTw = v.layout.taintWords;
  const pi = v.pi;
  const pf = v.pf;
  const podFlags = pi[PI.podFlags] ?? 0;
  const wFit = pi[PI.wFit] ?? 0, wBal = pi[PI.wBalanced] ?? 0, wTaint = pi[PI.wTaint] ?? 0;
  const wAff = pi[PI.wAffinity] ?? 0, wImg = pi[PI.wImage] ?? 0;
  const strategy = pi[PI.strategy] ?? 0;
  const imgMax = IMG_MAX_PER_CONTAINER * (pi[PI.numContainers] ?? 1);
  const cpu = pf[PF.cpu] ?? 0, mem = pf[PF.memory] ?? 0, eph = pf[PF.ephemeral] ?? 0;
  const nzCpu = pf[PF.nzCpu] ?? 0, nzMem = pf[PF.nzMemory] ?? 0;
  let podZero = cpu === 0 && mem === 0 && eph === 0;
  for (let k = 0; k < nExt; k++) if ((pf[PF.ext + k] ?? 0) !== 0) podZero = false;

  const podReq = (r: number, nonZero: boolean): number =>
    r === 0 ? (nonZero ? nzCpu : cpu) : r === 1 ? (nonZero ? nzMem : mem) : r === 2 ? eph : (pf[PF.ext + r - 3] ?? 0);
  const allocOf = (r: number, i: number): number =>
    (r === 0 ? v.allocCpu[i] : r === 1 ? v.allocMem[i] : r === 2 ? v.allocEph[i] : v.allocExt[(r - 3) * c + i]) ?? 0;
  const requestedOf = (r: number, i: number, nonZero: boolean): number => {
    if (r === 0) return ((nonZero ? v.nzCpu[i] : v.reqCpu[i]) ?? 0) + podReq(0, nonZero);
    if (r === 1) return ((nonZero ? v.nzMem[i] : v.reqMem[i]) ?? 0) + podReq(1, nonZero);
    if (r === 2) return (v.reqEph[i] ?? 0) + eph;
    return (v.reqExt[(r - 3) * c + i] ?? 0) + (pf[PF.ext + r - 3] ?? 0);
  };
  const skipped = (r: number, nonZero: boolean): boolean => r >= 3 && podReq(r, nonZero) === 0;

  const fitN = pi[PI.fitCount] ?? 0;
  const balN = pi[PI.balancedCount] ?? 0;
  let balancedBestEffort = true;
  for (let j = 0; j < balN; j++) if (podReq(pi[PI.balancedResources + j] ?? 0, false) !== 0) balancedBestEffort = false;
  const tolHard = Array.from({ length: nTw }, (_, w) => pi[PI.toleratedHard + w] ?? 0);
  const tolPrefer = Array.from({ length: nTw }, (_, w) => pi[PI.toleratedPrefer + w] ?? 0);
  const bit = (words: Uint32Array, i: number): number => ((words[i >>> 5] ?? 0) >>> (i & 31)) & 1;

  const filterNode = (i: number): number => {
    if (((v.flags[i] ?? 0) & 1) !== 0 && (podFlags & POD_TOLERATES_UNSCHEDULABLE) === 0) return Reason.Unschedulable;
    let bad = 0;
    for (let w = 0; w < nTw; w++) bad |= (v.taintHard[w * c + i] ?? 0) & ~(tolHard[w] ?? 0);
    if (bad !== 0) return Reason.UntoleratedTaint;
    if ((podFlags & POD_HAS_SELECTOR) !== 0 && bit(v.selector, i) === 0) return Reason.NodeAffinity;
    let fit = 0;
    if ((v.podCount[i] ?? 0) + 1 > (v.allocPods[i] ?? 0)) fit |= Reason.TooManyPods;
    if (!podZero) {
      if (cpu > 0 && cpu > (v.allocCpu[i] ?? 0) - (v.reqCpu[i] ?? 0)) fit |= Reason.InsufficientCpu;
      if (mem > 0 && mem > (v.allocMem[i] ?? 0) - (v.reqMem[i] ?? 0)) fit |= Reason.InsufficientMemory;
      if (eph > 0 && eph > (v.allocEph[i] ?? 0) - (v.reqEph[i] ?? 0)) fit |= Reason.InsufficientEphemeralStorage;
      for (let k = 0; k < nExt; k++) {
        const x = pf[PF.ext + k] ?? 0;
        if (x > 0 && x > (v.allocExt[k * c + i] ?? 0) - (v.reqExt[k * c + i] ?? 0)) fit |= Reason.InsufficientExtended0 << k;
      }
    }
    if (fit !== 0) return fit;
    if ((podFlags & POD_HAS_EXTERNAL_FILTER) !== 0 && bit(v.externalReject, i) !== 0) return Reason.External;
    return 0;
  };

  const fitScore = (i: number): number => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let j = 0; j < fitN; j++) {
      const r = pi[PI.fitResources + j] ?? 0;
      if (skipped(r, true)) continue;
      const a = allocOf(r, i);
      if (a === 0) continue;
      const q = requestedOf(r, i, true);
      const w = pi[PI.fitWeights + j] ?? 0;
      let s: number;
      if (strategy === 0) s = q > a ? 0 : Math.trunc(((a - q) * 100) / a);
      else if (strategy === 1) s = Math.trunc(((q > a ? a : q) * 100) / a);
      else {
        const p = q <= 0 ? 0 : q >= a ? 100 : Math.trunc((q * 100) / a);
        s = v.rtcr[p] ?? 0;
        if (s <= 0) continue;
      }
      nodeScore += s * w;
      weightSum += w;
    }
    if (weightSum === 0) return 0;
    const x = nodeScore / weightSum;
    if (strategy !== 2) return Math.trunc(x);
    const f = Math.floor(x);
    return x - f >= 0.5 ? f + 1 : f;
  };

  const balancedScore = (i: number): number => {
    if (balancedBestEffort) return 0;
    let count = 0, total = 0, f0 = 0, f1 = 0;
    for (let j = 0; j < balN; j++) {
      const r = pi[PI.balancedResources + j] ?? 0;
      if (skipped(r, false)) continue;
      const a = allocOf(r, i);
      if (a === 0) continue;
      let f = requestedOf(r, i, false) / a;
      if (f > 1) f = 1;
      total += f;
      if (count === 0) f0 = f; else if (count === 1) f1 = f;
      count++;
    }
    let std = 0;
    if (count === 2) std = Math.abs((f0 - f1) / 2);
    else if (count > 2) {
      const mean = total / count;
      let sum = 0;
      for (let j = 0; j < balN; j++) {
        const r = pi[PI.balancedResources + j] ?? 0;
        if (skipped(r, false)) continue;
        const a = allocOf(r, i);
        if (a === 0) continue;
        let f = requestedOf(r, i, false) / a;
        if (f > 1) f = 1;
        sum = sum + (f - mean) * (f - mean);
      }
      std = Math.sqrt(sum / count);
    }
    return Math.trunc((1 - std) * 100);
  };

  const imageScore = (i: number): number => {
    if ((podFlags & POD_HAS_IMAGES) === 0) return 0;
    let s = v.imageSums[i] ?? 0;
    if (s < IMG_MIN) s = IMG_MIN; else if (s > imgMax) s = imgMax;
    return Math.trunc((100 * (s - IMG_MIN)) / (imgMax - IMG_MIN));
  };

  const popcnt = (x: number): number => {
    let b = x >>> 0, k = 0;
    while (b !== 0) { b &= b - 1; k++; }
    return k;
  };

  const reasons = v.reasons;
  reasons.fill(0, 0, REASON_COUNT);
  let maxT = 0, maxA = 0, feasible = 0;
  for (let i = 0; i < n; i++) {
    const st = filterNode(i);
    v.status[i] = st;
    let base = 0, t = 0, a = 0;
    if (st === 0) {
      feasible++;
      if (wFit !== 0) base += wFit * fitScore(i);
      if (wBal !== 0) base += wBal * balancedScore(i);
      if (wImg !== 0) base += wImg * imageScore(i);
      if ((podFlags & POD_HAS_EXTRA_SCORE) !== 0) base = (base + (v.extraScore[i] ?? 0)) | 0;
      for (let w = 0; w < nTw; w++) t += popcnt((v.taintPrefer[w * c + i] ?? 0) & ~(tolPrefer[w] ?? 0));
      if ((podFlags & POD_HAS_PREFERRED) !== 0) a = v.preferredWeights[i] ?? 0;
      if (t > maxT) maxT = t;
      if (a > maxA) maxA = a;
    } else {
      let bits = st;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        reasons[b] = (reasons[b] ?? 0) + 1;
        bits &= bits - 1;
      }
    }
    v.score[i] = base;
    v.rawTaint[i] = t;
    v.rawAffinity[i] = a;
  }
  for (let i = 0; i < n; i++) {
    if (v.status[i] !== 0) { v.score[i] = 0; continue; }
    let total = v.score[i] ?? 0;
    const t = v.rawTaint[i] ?? 0;
    const a = v.rawAffinity[i] ?? 0;
    total += wTaint * (maxT === 0 ? 100 : 100 - Math.trunc((100 * t) / maxT));
    total += wAff * (maxA === 0 ? 0 : Math.trunc((100 * a) / maxA));
    v.score[i] = total | 0;
  }
  const best = selectBest(v, n, pi[PI.seed] ?? 0);
  v.result[RESULT_BEST] = best;
  v.result[RESULT_FEASIBLE] = feasible;
  return best;
}

/** Highest score among feasible nodes; ties by reservoir sampling driven by xorshift32(seed). */
export function selectBest(v: Views, n: number, seed: number): number {
  let best = -1, max = 0;
  for (let i = 0; i < n; i++) {
    if (v.status[i] !== 0) continue;
    const s = v.score[i] ?? 0;
    if (best < 0 || s > max) { max = s; best = i; }
  }
  if (best < 0) return -1;
  let x = seed | 0;
  if (x === 0) x = 0x9e3779b9 | 0;
  let ties = 1;
  for (let i = best + 1; i < n; i++) {
    if (v.status[i] !== 0 || v.score[i] !== max) continue;
    ties++;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    if ((x >>> 0) % ties === 0) best = i;
  }
  return best;
}
