// Scheduler filter+score kernel (AssemblyScript). TypeScript twin: src/scheduler/kernel/twin.ts.
// Built twice by scripts/asbuild.ts: build/wasm/scheduler.wasm (SIMD) and scheduler.scalar.wasm.
// `ASC_FEATURE_SIMD` is a compile-time constant, so the scalar build contains no v128 code.
//
// Memory: the host grows memory and writes a header at address 0 holding byte offsets of every
// array (layout in src/scheduler/kernel/_layout.ts; the constants below mirror it). The kernel owns
// no memory of its own and allocates nothing.
//
// Numeric contract (shared with the twin): all resource math is f64 holding integers; every
// upstream integer division is `trunc(a / b)` on f64, which equals Go's int64 division whenever
// |a| + |b| < 2^53 (the facade bounds inputs to keep that true). BalancedAllocation's fractions are
// plain f64 divisions exactly as upstream computes them.

// ---- layout mirror (keep in step with _layout.ts) ----
const MAGIC: i32 = 0x54474b03;
const H_CAPACITY: i32 = 1;
const H_EXT: i32 = 2;
const H_TAINT_WORDS: i32 = 3;
const H_FIELDS: i32 = 8;

const F_ALLOC_CPU: i32 = 0;
const F_ALLOC_MEM: i32 = 1;
const F_ALLOC_EPH: i32 = 2;
const F_REQ_CPU: i32 = 3;
const F_REQ_MEM: i32 = 4;
const F_REQ_EPH: i32 = 5;
const F_NZ_CPU: i32 = 6;
const F_NZ_MEM: i32 = 7;
const F_ALLOC_EXT: i32 = 8;
const F_REQ_EXT: i32 = 9;
const F_IMAGE_SUMS: i32 = 10;
const F_ALLOC_PODS: i32 = 11;
const F_POD_COUNT: i32 = 12;
const F_FLAGS: i32 = 13;
const F_TAINT_HARD: i32 = 14;
const F_TAINT_PREFER: i32 = 15;
const F_PREFERRED: i32 = 16;
const F_EXTRA: i32 = 17;
const F_STATUS: i32 = 18;
const F_SCORE: i32 = 19;
const F_RAW_TAINT: i32 = 20;
const F_RAW_AFF: i32 = 21;
const F_SELECTOR: i32 = 22;
const F_EXTERNAL: i32 = 23;
const F_PARAMS_F64: i32 = 24;
const F_PARAMS_I32: i32 = 25;
const F_REASONS: i32 = 26;
const F_RTCR: i32 = 27;
const F_RESULT: i32 = 28;
const F_SCRATCH: i32 = 29;
// scratch layout (bytes): fit alloc ptrs u32[8] @0, fit req ptrs u32[8] @32, fit pod f64[8] @64,
// fit weights f64[8] @128, balanced alloc ptrs u32[8] @192, balanced req ptrs u32[8] @224, balanced pod f64[8] @256
const S_FIT_ALLOC: usize = 0;
const S_FIT_REQ: usize = 32;
const S_FIT_POD: usize = 64;
const S_FIT_W: usize = 128;
const S_BAL_ALLOC: usize = 192;
const S_BAL_REQ: usize = 224;
const S_BAL_POD: usize = 256;
const S_TAINT_TABLE: usize = 384; // u8[16]: normalized TaintToleration score by count when max ≤ 15

const PI_W_FIT: i32 = 0;
const PI_W_BAL: i32 = 1;
const PI_W_TAINT: i32 = 2;
const PI_W_AFF: i32 = 3;
const PI_W_IMG: i32 = 4;
const PI_STRATEGY: i32 = 5;
const PI_FIT_N: i32 = 6;
const PI_FIT_RES: i32 = 7;
const PI_FIT_W: i32 = 15;
const PI_BAL_N: i32 = 23;
const PI_BAL_RES: i32 = 24;
const PI_POD_FLAGS: i32 = 32;
const PI_NUM_CONTAINERS: i32 = 33;
const PI_SEED: i32 = 34;
const PI_TOL_HARD: i32 = 40;
const PI_TOL_PREFER: i32 = 48;

const PF_CPU: i32 = 0;
const PF_MEM: i32 = 1;
const PF_EPH: i32 = 2;
const PF_NZ_CPU: i32 = 3;
const PF_NZ_MEM: i32 = 4;
const PF_EXT: i32 = 8;

const POD_TOL_UNSCHED: i32 = 1;
const POD_HAS_SELECTOR: i32 = 2;
const POD_HAS_PREFERRED: i32 = 4;
const POD_HAS_IMAGES: i32 = 8;
const POD_HAS_EXTRA: i32 = 16;
const POD_HAS_EXTERNAL: i32 = 32;

const R_UNSCHEDULABLE: i32 = 1;
const R_TAINT: i32 = 2;
const R_AFFINITY: i32 = 4;
const R_PODS: i32 = 8;
const R_CPU: i32 = 16;
const R_MEMORY: i32 = 32;
const R_EPHEMERAL: i32 = 64;
const R_EXTERNAL: i32 = 128;
const R_EXT0: i32 = 256;
const REASON_SLOTS: i32 = 16;

const STRATEGY_LEAST: i32 = 0;
const STRATEGY_MOST: i32 = 1;

const MB: f64 = 1048576.0;
const IMG_MIN: f64 = 23.0 * MB;
const IMG_MAX_PER_CONTAINER: f64 = 1000.0 * MB;

// ---- per-call state (read from the header / params) ----
let cap: i32 = 0;
let nExt: i32 = 0;
let nTw: i32 = 0;
let oAllocCpu: usize = 0; let oAllocMem: usize = 0; let oAllocEph: usize = 0;
let oReqCpu: usize = 0; let oReqMem: usize = 0; let oReqEph: usize = 0;
let oNzCpu: usize = 0; let oNzMem: usize = 0; let oAllocExt: usize = 0; let oReqExt: usize = 0;
let oImg: usize = 0; let oAllocPods: usize = 0; let oPodCount: usize = 0; let oFlags: usize = 0;
let oTaintHard: usize = 0; let oTaintPrefer: usize = 0; let oPref: usize = 0; let oExtra: usize = 0;
let oStatus: usize = 0; let oScore: usize = 0; let oRawT: usize = 0; let oRawA: usize = 0;
let oSel: usize = 0; let oExternal: usize = 0; let oPF: usize = 0; let oPI: usize = 0;
let oReasons: usize = 0; let oRtcr: usize = 0; let oResult: usize = 0; let oScratch: usize = 0;
let fitActive: i32 = 0; // fit resources the pod does not skip (pointers in scratch)
let balActive: i32 = 0;

let podFlags: i32 = 0;
let podZero: bool = true;
let balancedBestEffort: bool = true;
let wFit: i32 = 0; let wBal: i32 = 0; let wTaint: i32 = 0; let wAff: i32 = 0; let wImg: i32 = 0;
let strategy: i32 = 0;
let imgMax: f64 = 0;
let fitWeightSum: f64 = 0; // Σ weights of fit resources the pod does not skip (all nodes with allocatable > 0)
let fitWeightInv: f64 = 0;

@inline function off(field: i32): usize { return <usize>load<i32>(<usize>((H_FIELDS + field) << 2)); }
@inline function pi(slot: i32): i32 { return load<i32>(oPI + (<usize>slot << 2)); }
@inline function pf(slot: i32): f64 { return load<f64>(oPF + (<usize>slot << 3)); }
@inline function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
@inline function i32At(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
@inline function rowF64(base: usize, row: i32): usize { return base + ((<usize>row * <usize>cap) << 3); }
@inline function rowI32(base: usize, row: i32): usize { return base + ((<usize>row * <usize>cap) << 2); }
@inline function bitAt(base: usize, i: i32): i32 { return (load<u32>(base + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 1; }

function readHeader(): bool {
  if (load<i32>(0) != MAGIC) return false;
  cap = load<i32>(H_CAPACITY << 2);
  nExt = load<i32>(H_EXT << 2);
  nTw = load<i32>(H_TAINT_WORDS << 2);
  oAllocCpu = off(F_ALLOC_CPU); oAllocMem = off(F_ALLOC_MEM); oAllocEph = off(F_ALLOC_EPH);
  oReqCpu = off(F_REQ_CPU); oReqMem = off(F_REQ_MEM); oReqEph = off(F_REQ_EPH);
  oNzCpu = off(F_NZ_CPU); oNzMem = off(F_NZ_MEM); oAllocExt = off(F_ALLOC_EXT); oReqExt = off(F_REQ_EXT);
  oImg = off(F_IMAGE_SUMS); oAllocPods = off(F_ALLOC_PODS); oPodCount = off(F_POD_COUNT); oFlags = off(F_FLAGS);
  oTaintHard = off(F_TAINT_HARD); oTaintPrefer = off(F_TAINT_PREFER); oPref = off(F_PREFERRED); oExtra = off(F_EXTRA);
  oStatus = off(F_STATUS); oScore = off(F_SCORE); oRawT = off(F_RAW_TAINT); oRawA = off(F_RAW_AFF);
  oSel = off(F_SELECTOR); oExternal = off(F_EXTERNAL); oPF = off(F_PARAMS_F64); oPI = off(F_PARAMS_I32);
  oReasons = off(F_REASONS); oRtcr = off(F_RTCR); oResult = off(F_RESULT); oScratch = off(F_SCRATCH);
  return true;
}

// ---- resources: id 0 cpu, 1 memory, 2 ephemeral-storage, 3+k extended k ----

/** Pod request for scoring resource `r` (`nonZero` selects the NodeResourcesFit defaults). */
@inline function podReq(r: i32, nonZero: bool): f64 {
  if (r == 0) return nonZero ? pf(PF_NZ_CPU) : pf(PF_CPU);
  if (r == 1) return nonZero ? pf(PF_NZ_MEM) : pf(PF_MEM);
  if (r == 2) return pf(PF_EPH);
  return pf(PF_EXT + r - 3);
}
@inline function allocOf(r: i32, i: i32): f64 {
  if (r == 0) return f64At(oAllocCpu, i);
  if (r == 1) return f64At(oAllocMem, i);
  if (r == 2) return f64At(oAllocEph, i);
  return f64At(rowF64(oAllocExt, r - 3), i);
}
/** Node's requested amount of `r` plus the pod's (NonZeroRequested for cpu/memory when `nonZero`). */
@inline function requestedOf(r: i32, i: i32, nonZero: bool): f64 {
  if (r == 0) return (nonZero ? f64At(oNzCpu, i) : f64At(oReqCpu, i)) + podReq(0, nonZero);
  if (r == 1) return (nonZero ? f64At(oNzMem, i) : f64At(oReqMem, i)) + podReq(1, nonZero);
  if (r == 2) return f64At(oReqEph, i) + pf(PF_EPH);
  return f64At(rowF64(oReqExt, r - 3), i) + pf(PF_EXT + r - 3);
}
/** Extended resources the pod does not request are left out of scoring (upstream: (0, 0)). */
@inline function skipped(r: i32, nonZero: bool): bool { return r >= 3 && podReq(r, nonZero) == 0; }
/** Base address of resource `r`'s allocatable column. */
function allocBase(r: i32): usize {
  if (r == 0) return oAllocCpu;
  if (r == 1) return oAllocMem;
  if (r == 2) return oAllocEph;
  return rowF64(oAllocExt, r - 3);
}
/** Base address of the node-side requested column scoring uses for `r`. */
function reqBase(r: i32, nonZero: bool): usize {
  if (r == 0) return nonZero ? oNzCpu : oReqCpu;
  if (r == 1) return nonZero ? oNzMem : oReqMem;
  if (r == 2) return oReqEph;
  return rowF64(oReqExt, r - 3);
}

// ---- scalar per-node pieces (the reference for the SIMD path, mirrored by the twin) ----

function filterNode(i: i32): i32 {
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

function fitScore(i: i32): i32 {
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

function balancedScore(i: i32): i32 {
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

function imageScore(i: i32): i32 {
  if ((podFlags & POD_HAS_IMAGES) == 0) return 0;
  let s = f64At(oImg, i);
  if (s < IMG_MIN) s = IMG_MIN; else if (s > imgMax) s = imgMax;
  return <i32>trunc(100 * (s - IMG_MIN) / (imgMax - IMG_MIN));
}

function taintCount(i: i32): i32 {
  let c: i32 = 0;
  for (let w = 0; w < nTw; w++) c += popcnt(i32At(rowI32(oTaintPrefer, w), i) & ~pi(PI_TOL_PREFER + w));
  return c;
}

/** Pass-1 work for one node: status, base score, raw taint / affinity scores. */
function scalarNode(i: i32): void {
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

@inline function countReasons(st: i32): void {
  let bits = st;
  while (bits != 0) {
    const b = ctz(bits);
    const p = oReasons + (<usize>b << 2);
    store<i32>(p, load<i32>(p) + 1);
    bits &= bits - 1;
  }
}

/** Pass 2 for one node: normalized TaintToleration (reversed) and NodeAffinity, final sum. */
@inline function finalScore(i: i32, maxT: i32, maxA: i32): void {
  const p = oScore + (<usize>i << 2);
  if (i32At(oStatus, i) != 0) { store<i32>(p, 0); return; }
  let total = load<i32>(p);
  const t = i32At(oRawT, i);
  const a = i32At(oRawA, i);
  total += wTaint * (maxT == 0 ? 100 : 100 - <i32>trunc(100.0 * <f64>t / <f64>maxT));
  total += wAff * (maxA == 0 ? 0 : <i32>trunc(100.0 * <f64>a / <f64>maxA));
  store<i32>(p, total);
}

function prepare(): void {
  podFlags = pi(PI_POD_FLAGS);
  wFit = pi(PI_W_FIT); wBal = pi(PI_W_BAL); wTaint = pi(PI_W_TAINT); wAff = pi(PI_W_AFF); wImg = pi(PI_W_IMG);
  strategy = pi(PI_STRATEGY);
  imgMax = IMG_MAX_PER_CONTAINER * <f64>pi(PI_NUM_CONTAINERS);
  podZero = pf(PF_CPU) == 0 && pf(PF_MEM) == 0 && pf(PF_EPH) == 0;
  for (let k = 0; k < nExt; k++) if (pf(PF_EXT + k) != 0) podZero = false;
  fitWeightSum = 0;
  fitActive = 0;
  const nf = pi(PI_FIT_N);
  for (let j = 0; j < nf; j++) {
    const r = pi(PI_FIT_RES + j);
    if (skipped(r, true)) continue;
    const w = <f64>pi(PI_FIT_W + j);
    fitWeightSum += w;
    store<u32>(oScratch + S_FIT_ALLOC + (<usize>fitActive << 2), <u32>allocBase(r));
    store<u32>(oScratch + S_FIT_REQ + (<usize>fitActive << 2), <u32>reqBase(r, true));
    store<f64>(oScratch + S_FIT_POD + (<usize>fitActive << 3), podReq(r, true));
    store<f64>(oScratch + S_FIT_W + (<usize>fitActive << 3), w);
    fitActive++;
  }
  fitWeightInv = fitWeightSum > 0 ? 1 / fitWeightSum : 0;
  balActive = 0;
  const nbal = pi(PI_BAL_N);
  for (let j = 0; j < nbal; j++) {
    const r = pi(PI_BAL_RES + j);
    if (skipped(r, false)) continue;
    store<u32>(oScratch + S_BAL_ALLOC + (<usize>balActive << 2), <u32>allocBase(r));
    store<u32>(oScratch + S_BAL_REQ + (<usize>balActive << 2), <u32>reqBase(r, false));
    store<f64>(oScratch + S_BAL_POD + (<usize>balActive << 3), podReq(r, false));
    balActive++;
  }
  balancedBestEffort = true;
  const nb = pi(PI_BAL_N);
  for (let j = 0; j < nb; j++) if (podReq(pi(PI_BAL_RES + j), false) != 0) balancedBestEffort = false;
  for (let b = 0; b < REASON_SLOTS; b++) store<i32>(oReasons + (<usize>b << 2), 0);
}

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
    let table = i32x4.splat(0);
    if (maxT > 0 && maxT <= 15) {
      for (let t = 0; t < 16; t++) {
        store<u8>(oScratch + S_TAINT_TABLE + <usize>t, <u8>(t > maxT ? 0 : 100 - <i32>trunc(100.0 * <f64>t / <f64>maxT)));
      }
      table = v128.load(oScratch + S_TAINT_TABLE);
    }
    for (; i < end; i += 4) simdPass2(i, maxT, maxA, table);
  }
  for (; i < n; i++) finalScore(i, maxT, maxA);
  const best = selectBest(n);
  store<i32>(oResult, best);
  store<i32>(oResult + 4, feasible);
  return best;
}

// ---- SIMD path (compiled only with --enable simd) ----

/** Low 32 bits of each 64-bit lane of `lo` and `hi` → one i32x4 (f64x2 masks and truncations). */
@inline function narrow(lo: v128, hi: v128): v128 {
  return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}
/** Two f64x2 of integral values → one i32x4 (lanes lo0, lo1, hi0, hi1). */
@inline function toI32(lo: v128, hi: v128): v128 {
  return i8x16.shuffle(i32x4.trunc_sat_f64x2_s_zero(lo), i32x4.trunc_sat_f64x2_s_zero(hi),
    0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
@inline function ldF(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 3)); }
@inline function ldF2(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 3), 16); }

/**
 * trunc(a / b) for integral 0 ≤ a, 0 < b, a + b < 2^53, quotient ≤ 2^20, without a division:
 * multiply by the reciprocal (off by at most one) and correct with exact integer products.
 */
@inline function divTrunc(a: v128, b: v128, inv: v128): v128 {
  const one = f64x2.splat(1);
  let q = f64x2.trunc(f64x2.mul(a, inv));
  const qb = f64x2.mul(q, b);
  q = f64x2.add(q, v128.and(f64x2.le(f64x2.add(qb, b), a), one));
  return f64x2.sub(q, v128.and(f64x2.gt(qb, a), one));
}

/** f64 mask (lo, hi pairs) of `need > alloc - requested`. */
@inline function short(need: f64, allocB: usize, reqB: usize, i: i32): v128 {
  const v = f64x2.splat(need);
  return narrow(f64x2.gt(v, f64x2.sub(ldF(allocB, i), ldF(reqB, i))), f64x2.gt(v, f64x2.sub(ldF2(allocB, i), ldF2(reqB, i))));
}

/** Fit score for 4 lanes (Least/Most strategies), as i32x4. */
@inline function fitQuad(i: i32): v128 {
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
@inline function balancedPair(fa0: v128, fq0: v128, fa1: v128, fq1: v128): v128 {
  const one = f64x2.splat(1);
  let f0 = f64x2.div(fq0, fa0);
  f0 = v128.bitselect(one, f0, f64x2.gt(f0, one));
  let f1 = f64x2.div(fq1, fa1);
  f1 = v128.bitselect(one, f1, f64x2.gt(f1, one));
  // x * 0.5 rounds the same real value as upstream's x / 2, so the result is bit-identical.
  const std = f64x2.abs(f64x2.mul(f64x2.sub(f0, f1), f64x2.splat(0.5)));
  return f64x2.trunc(f64x2.mul(f64x2.sub(one, std), f64x2.splat(100)));
}

function simdPass1(i: i32): v128 {
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

@inline function normPair(raw: v128, maxv: f64): v128 {
  // trunc(100 * raw / max) for the low two i32 lanes of `raw` (0 ≤ raw ≤ max), as f64x2
  return divTrunc(f64x2.mul(f64x2.convert_low_i32x4_s(raw), f64x2.splat(100)), f64x2.splat(maxv), f64x2.splat(1 / maxv));
}

function simdPass2(i: i32, maxT: i32, maxA: i32, taintTable: v128): void {
  const p = oScore + (<usize>i << 2);
  let total = v128.load(p);
  if (wTaint != 0) {
    let tt: v128;
    if (maxT == 0) tt = i32x4.splat(100);
    else if (maxT <= 15) {
      // Counts 0..15 index a 16-byte table (lane bytes 1..3 are 0 and masked off afterwards).
      tt = v128.and(i8x16.swizzle(taintTable, v128.load(oRawT + (<usize>i << 2))), i32x4.splat(0xff));
    } else {
      const t = v128.load(oRawT + (<usize>i << 2));
      const m = <f64>maxT;
      tt = i32x4.sub(i32x4.splat(100), toI32(normPair(t, m), normPair(i32x4.shuffle(t, t, 2, 3, 0, 1), m)));
    }
    total = i32x4.add(total, i32x4.mul(tt, i32x4.splat(wTaint)));
  }
  if (wAff != 0 && maxA != 0) {
    const a = v128.load(oRawA + (<usize>i << 2));
    const m = <f64>maxA;
    const na = toI32(normPair(a, m), normPair(i32x4.shuffle(a, a, 2, 3, 0, 1), m));
    total = i32x4.add(total, i32x4.mul(na, i32x4.splat(wAff)));
  }
  const feas = i32x4.eq(v128.load(oStatus + (<usize>i << 2)), i32x4.splat(0));
  v128.store(p, v128.and(total, feas));
}
