/**
 * The TypeScript twin of wasm/scheduler.ts: the same filter + score over the same layout, written
 * as the plain reference. Every arithmetic step matches the scalar kernel operation for operation
 * (f64 values holding integers, `Math.trunc(a / b)` for Go's int64 division, upstream's float
 * formula for BalancedAllocation), so results are bit-identical. Written for speed the way one
 * writes hot JavaScript (typed arrays hoisted into one context object, module-level helpers), so
 * the WASM/TS ratio in bench/kernel.ts compares against a fair baseline.
 */
import { PF, PI, POD_HAS_EXTERNAL_FILTER, POD_HAS_EXTRA_SCORE, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR,
  POD_TOLERATES_UNSCHEDULABLE, RESULT_BEST, RESULT_FEASIBLE } from "./_layout.ts";
import type { Views } from "./_state.ts";
import { Reason, REASON_COUNT } from "./types.ts";

const MB = 1048576;
const IMG_MIN = 23 * MB;
const IMG_MAX_PER_CONTAINER = 1000 * MB;
const STRATEGY_LEAST = 0;
const STRATEGY_MOST = 1;

/** Everything one call reads, hoisted out of `Views` and the parameter blocks. */
class Ctx {
  readonly c: number; readonly nExt: number; readonly nTw: number;
  readonly allocCpu: Float64Array; readonly allocMem: Float64Array; readonly allocEph: Float64Array;
  readonly reqCpu: Float64Array; readonly reqMem: Float64Array; readonly reqEph: Float64Array;
  readonly nzCpu: Float64Array; readonly nzMem: Float64Array; readonly allocExt: Float64Array; readonly reqExt: Float64Array;
  readonly rtcr: Int32Array;
  readonly podFlags: number; readonly strategy: number; readonly imgMax: number;
  readonly cpu: number; readonly mem: number; readonly eph: number; readonly podNzCpu: number; readonly podNzMem: number;
  readonly podExt: Float64Array;
  readonly fitRes: Int32Array; readonly fitW: Int32Array; readonly balRes: Int32Array;
  readonly tolHard: Int32Array; readonly tolPrefer: Int32Array;
  readonly podZero: boolean; readonly balancedBestEffort: boolean;

  constructor(v: Views) {
    this.c = v.layout.capacity; this.nExt = v.layout.ext; this.nTw = v.layout.taintWords;
    this.allocCpu = v.allocCpu; this.allocMem = v.allocMem; this.allocEph = v.allocEph;
    this.reqCpu = v.reqCpu; this.reqMem = v.reqMem; this.reqEph = v.reqEph;
    this.nzCpu = v.nzCpu; this.nzMem = v.nzMem; this.allocExt = v.allocExt; this.reqExt = v.reqExt;
    this.rtcr = v.rtcr;
    const pi = v.pi, pf = v.pf;
    this.podFlags = pi[PI.podFlags] ?? 0;
    this.strategy = pi[PI.strategy] ?? 0;
    this.imgMax = IMG_MAX_PER_CONTAINER * (pi[PI.numContainers] ?? 1);
    this.cpu = pf[PF.cpu] ?? 0; this.mem = pf[PF.memory] ?? 0; this.eph = pf[PF.ephemeral] ?? 0;
    this.podNzCpu = pf[PF.nzCpu] ?? 0; this.podNzMem = pf[PF.nzMemory] ?? 0;
    this.podExt = pf.slice(PF.ext, PF.ext + 8);
    this.fitRes = pi.slice(PI.fitResources, PI.fitResources + (pi[PI.fitCount] ?? 0));
    this.fitW = pi.slice(PI.fitWeights, PI.fitWeights + (pi[PI.fitCount] ?? 0));
    this.balRes = pi.slice(PI.balancedResources, PI.balancedResources + (pi[PI.balancedCount] ?? 0));
    this.tolHard = pi.slice(PI.toleratedHard, PI.toleratedHard + this.nTw);
    this.tolPrefer = pi.slice(PI.toleratedPrefer, PI.toleratedPrefer + this.nTw);
    let podZero = this.cpu === 0 && this.mem === 0 && this.eph === 0;
    for (let k = 0; k < this.nExt; k++) if ((this.podExt[k] ?? 0) !== 0) podZero = false;
    this.podZero = podZero;
    let bestEffort = true;
    for (const r of this.balRes) if (podReq(this, r, false) !== 0) bestEffort = false;
    this.balancedBestEffort = bestEffort;
  }
}

function podReq(x: Ctx, r: number, nonZero: boolean): number {
  if (r === 0) return nonZero ? x.podNzCpu : x.cpu;
  if (r === 1) return nonZero ? x.podNzMem : x.mem;
  if (r === 2) return x.eph;
  return x.podExt[r - 3] ?? 0;
}
function allocOf(x: Ctx, r: number, i: number): number {
  if (r === 0) return x.allocCpu[i] ?? 0;
  if (r === 1) return x.allocMem[i] ?? 0;
  if (r === 2) return x.allocEph[i] ?? 0;
  return x.allocExt[(r - 3) * x.c + i] ?? 0;
}
function requestedOf(x: Ctx, r: number, i: number, nonZero: boolean): number {
  if (r === 0) return (nonZero ? (x.nzCpu[i] ?? 0) : (x.reqCpu[i] ?? 0)) + podReq(x, 0, nonZero);
  if (r === 1) return (nonZero ? (x.nzMem[i] ?? 0) : (x.reqMem[i] ?? 0)) + podReq(x, 1, nonZero);
  if (r === 2) return (x.reqEph[i] ?? 0) + x.eph;
  return (x.reqExt[(r - 3) * x.c + i] ?? 0) + (x.podExt[r - 3] ?? 0);
}
function skipped(x: Ctx, r: number, nonZero: boolean): boolean {
  return r >= 3 && podReq(x, r, nonZero) === 0;
}
function bit(words: Uint32Array, i: number): number {
  return ((words[i >>> 5] ?? 0) >>> (i & 31)) & 1;
}

function filterNode(x: Ctx, v: Views, i: number): number {
  if (((v.flags[i] ?? 0) & 1) !== 0 && (x.podFlags & POD_TOLERATES_UNSCHEDULABLE) === 0) return Reason.Unschedulable;
  let bad = 0;
  for (let w = 0; w < x.nTw; w++) bad |= (v.taintHard[w * x.c + i] ?? 0) & ~(x.tolHard[w] ?? 0);
  if (bad !== 0) return Reason.UntoleratedTaint;
  if ((x.podFlags & POD_HAS_SELECTOR) !== 0 && bit(v.selector, i) === 0) return Reason.NodeAffinity;
  let fit = 0;
  if ((v.podCount[i] ?? 0) + 1 > (v.allocPods[i] ?? 0)) fit |= Reason.TooManyPods;
  if (!x.podZero) {
    if (x.cpu > 0 && x.cpu > (x.allocCpu[i] ?? 0) - (x.reqCpu[i] ?? 0)) fit |= Reason.InsufficientCpu;
    if (x.mem > 0 && x.mem > (x.allocMem[i] ?? 0) - (x.reqMem[i] ?? 0)) fit |= Reason.InsufficientMemory;
    if (x.eph > 0 && x.eph > (x.allocEph[i] ?? 0) - (x.reqEph[i] ?? 0)) fit |= Reason.InsufficientEphemeralStorage;
    for (let k = 0; k < x.nExt; k++) {
      const e = x.podExt[k] ?? 0;
      if (e > 0 && e > (x.allocExt[k * x.c + i] ?? 0) - (x.reqExt[k * x.c + i] ?? 0)) fit |= Reason.InsufficientExtended0 << k;
    }
  }
  if (fit !== 0) return fit;
  if ((x.podFlags & POD_HAS_EXTERNAL_FILTER) !== 0 && bit(v.externalReject, i) !== 0) return Reason.External;
  return 0;
}

function fitScore(x: Ctx, i: number): number {
  let nodeScore = 0;
  let weightSum = 0;
  const strategy = x.strategy;
  for (let j = 0; j < x.fitRes.length; j++) {
    const r = x.fitRes[j] ?? 0;
    if (skipped(x, r, true)) continue;
    const a = allocOf(x, r, i);
    if (a === 0) continue;
    const q = requestedOf(x, r, i, true);
    const w = x.fitW[j] ?? 0;
    let s: number;
    if (strategy === STRATEGY_LEAST) s = q > a ? 0 : Math.trunc(((a - q) * 100) / a);
    else if (strategy === STRATEGY_MOST) s = Math.trunc(((q > a ? a : q) * 100) / a);
    else {
      const p = q <= 0 ? 0 : q >= a ? 100 : Math.trunc((q * 100) / a);
      s = x.rtcr[p] ?? 0;
      if (s <= 0) continue;
    }
    nodeScore += s * w;
    weightSum += w;
  }
  if (weightSum === 0) return 0;
  const q = nodeScore / weightSum;
  if (strategy === STRATEGY_LEAST || strategy === STRATEGY_MOST) return Math.trunc(q);
  const f = Math.floor(q);
  return q - f >= 0.5 ? f + 1 : f;
}

function fraction(x: Ctx, r: number, i: number, a: number): number {
  const f = requestedOf(x, r, i, false) / a;
  return f > 1 ? 1 : f;
}

function balancedScore(x: Ctx, i: number): number {
  if (x.balancedBestEffort) return 0;
  let count = 0, total = 0, f0 = 0, f1 = 0;
  for (let j = 0; j < x.balRes.length; j++) {
    const r = x.balRes[j] ?? 0;
    if (skipped(x, r, false)) continue;
    const a = allocOf(x, r, i);
    if (a === 0) continue;
    const f = fraction(x, r, i, a);
    total += f;
    if (count === 0) f0 = f; else if (count === 1) f1 = f;
    count++;
  }
  let std = 0;
  if (count === 2) std = Math.abs((f0 - f1) / 2);
  else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let j = 0; j < x.balRes.length; j++) {
      const r = x.balRes[j] ?? 0;
      if (skipped(x, r, false)) continue;
      const a = allocOf(x, r, i);
      if (a === 0) continue;
      const f = fraction(x, r, i, a);
      sum = sum + (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * 100);
}

function imageScore(x: Ctx, v: Views, i: number): number {
  let s = v.imageSums[i] ?? 0;
  if (s < IMG_MIN) s = IMG_MIN; else if (s > x.imgMax) s = x.imgMax;
  return Math.trunc((100 * (s - IMG_MIN)) / (x.imgMax - IMG_MIN));
}

function popcnt32(n: number): number {
  let b = n - ((n >>> 1) & 0x55555555);
  b = (b & 0x33333333) + ((b >>> 2) & 0x33333333);
  return (Math.imul((b + (b >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Runs one filter+score over nodes [0, n) of `v`; returns the best node (-1 if none). */
export function filterAndScoreTwin(v: Views, n: number): number {
  const x = new Ctx(v);
  const pi = v.pi;
  const wFit = pi[PI.wFit] ?? 0, wBal = pi[PI.wBalanced] ?? 0, wTaint = pi[PI.wTaint] ?? 0;
  const wAff = pi[PI.wAffinity] ?? 0, wImg = pi[PI.wImage] ?? 0;
  const podFlags = x.podFlags;
  const hasImages = (podFlags & POD_HAS_IMAGES) !== 0;
  const hasExtra = (podFlags & POD_HAS_EXTRA_SCORE) !== 0;
  const hasPreferred = (podFlags & POD_HAS_PREFERRED) !== 0;
  const { status, score, rawTaint, rawAffinity, reasons, taintPrefer, preferredWeights, extraScore } = v;
  const c = x.c, nTw = x.nTw, tolPrefer = x.tolPrefer;
  reasons.fill(0, 0, REASON_COUNT);
  let maxT = 0, maxA = 0, feasible = 0;
  for (let i = 0; i < n; i++) {
    const st = filterNode(x, v, i);
    status[i] = st;
    let base = 0, t = 0, a = 0;
    if (st === 0) {
      feasible++;
      if (wFit !== 0) base += wFit * fitScore(x, i);
      if (wBal !== 0) base += wBal * balancedScore(x, i);
      if (wImg !== 0 && hasImages) base += wImg * imageScore(x, v, i);
      if (hasExtra) base = (base + (extraScore[i] ?? 0)) | 0;
      for (let w = 0; w < nTw; w++) t += popcnt32((taintPrefer[w * c + i] ?? 0) & ~(tolPrefer[w] ?? 0));
      if (hasPreferred) a = preferredWeights[i] ?? 0;
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
    score[i] = base;
    rawTaint[i] = t;
    rawAffinity[i] = a;
  }
  for (let i = 0; i < n; i++) {
    if (status[i] !== 0) { score[i] = 0; continue; }
    let total = score[i] ?? 0;
    if (wTaint !== 0) total += wTaint * (maxT === 0 ? 100 : 100 - Math.trunc((100 * (rawTaint[i] ?? 0)) / maxT));
    if (wAff !== 0 && maxA !== 0) total += wAff * Math.trunc((100 * (rawAffinity[i] ?? 0)) / maxA);
    score[i] = total | 0;
  }
  const best = selectBest(v, n, pi[PI.seed] ?? 0);
  v.result[RESULT_BEST] = best;
  v.result[RESULT_FEASIBLE] = feasible;
  return best;
}

/** Highest score among feasible nodes; ties by reservoir sampling driven by xorshift32(seed). */
export function selectBest(v: Views, n: number, seed: number): number {
  const status = v.status, score = v.score;
  let best = -1, max = 0;
  for (let i = 0; i < n; i++) {
    if (status[i] !== 0) continue;
    const s = score[i] ?? 0;
    if (best < 0 || s > max) { max = s; best = i; }
  }
  if (best < 0) return -1;
  // murmur3's finalizer spreads small seeds over all 32 bits before xorshift32 takes over.
  let x = seed | 0;
  x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b); x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35); x ^= x >>> 16;
  if (x === 0) x = 0x9e3779b9 | 0;
  let ties = 1;
  for (let i = best + 1; i < n; i++) {
    if (status[i] !== 0 || score[i] !== max) continue;
    ties++;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    // P = 1/ties without a division (same test as the kernel; exact in f64: < 2^56).
    if ((x >>> 0) * ties < 4294967296) best = i;
  }
  return best;
}
