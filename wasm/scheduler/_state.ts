// Per-call state of the scheduler kernel: offsets read from the header, per-pod parameters and
// the resource accessors shared by the scalar and SIMD paths.

import {
  F_ALLOC_CPU, F_ALLOC_EPH, F_ALLOC_EXT, F_ALLOC_MEM, F_ALLOC_PODS, F_EXTERNAL,
  F_EXTRA, F_FLAGS, F_IMAGE_SUMS, F_NZ_CPU, F_NZ_MEM, F_PARAMS_F64,
  F_PARAMS_I32, F_POD_COUNT, F_PREFERRED, F_RAW_AFF, F_RAW_TAINT, F_REASONS,
  F_REQ_CPU, F_REQ_EPH, F_REQ_EXT, F_REQ_MEM, F_RESULT, F_RTCR,
  F_SCORE, F_SCRATCH, F_SELECTOR, F_STATUS, F_TAINT_HARD, F_TAINT_PREFER,
  H_CAPACITY, H_EXT, H_FIELDS, H_TAINT_WORDS, IMG_MAX_PER_CONTAINER, MAGIC,
  PF_CPU, PF_EPH, PF_EXT, PF_MEM, PF_NZ_CPU, PF_NZ_MEM,
  PI_BAL_N, PI_BAL_RES, PI_FIT_N, PI_FIT_RES, PI_FIT_W, PI_NUM_CONTAINERS,
  PI_POD_FLAGS, PI_STRATEGY, PI_W_AFF, PI_W_BAL, PI_W_FIT, PI_W_IMG,
  PI_W_TAINT, REASON_SLOTS, S_BAL_ALLOC, S_BAL_POD, S_BAL_REQ, S_FIT_ALLOC,
  S_FIT_POD, S_FIT_REQ, S_FIT_W, STRATEGY_LEAST, STRATEGY_MOST,
} from "./_layout";

// ---- per-call state (read from the header / params) ----
export let cap: i32 = 0;
export let nExt: i32 = 0;
export let nTw: i32 = 0;
export let oAllocCpu: usize = 0; export let oAllocMem: usize = 0; export let oAllocEph: usize = 0;
export let oReqCpu: usize = 0; export let oReqMem: usize = 0; export let oReqEph: usize = 0;
export let oNzCpu: usize = 0; export let oNzMem: usize = 0; export let oAllocExt: usize = 0; export let oReqExt: usize = 0;
export let oImg: usize = 0; export let oAllocPods: usize = 0; export let oPodCount: usize = 0; export let oFlags: usize = 0;
export let oTaintHard: usize = 0; export let oTaintPrefer: usize = 0; export let oPref: usize = 0; export let oExtra: usize = 0;
export let oStatus: usize = 0; export let oScore: usize = 0; export let oRawT: usize = 0; export let oRawA: usize = 0;
export let oSel: usize = 0; export let oExternal: usize = 0; export let oPF: usize = 0; export let oPI: usize = 0;
export let oReasons: usize = 0; export let oRtcr: usize = 0; export let oResult: usize = 0; export let oScratch: usize = 0;
export let fitActive: i32 = 0; // fit resources the pod does not skip (pointers in scratch)
export let balActive: i32 = 0;

export let podFlags: i32 = 0;
export let podZero: bool = true;
export let balancedBestEffort: bool = true;
export let wFit: i32 = 0; export let wBal: i32 = 0; export let wTaint: i32 = 0; export let wAff: i32 = 0; export let wImg: i32 = 0;
export let strategy: i32 = 0;
export let imgMax: f64 = 0;
export let fitWeightSum: f64 = 0; // Σ weights of fit resources the pod does not skip (all nodes with allocatable > 0)
export let fitWeightInv: f64 = 0;
// The fused loop of _fast.ts applies (NodeResourcesFit Least/Most over cpu and/or memory,
// BalancedAllocation over exactly cpu + memory, or either plugin off).
export let fastOk: bool = false;
export let fwCpu: i32 = 0; // fit weight of cpu in the fused loop (0: not scored)
export let fwMem: i32 = 0;
export let fastOtherFit: bool = false; // the pod requests ephemeral storage or an extended resource

@inline export function off(field: i32): usize { return <usize>load<i32>(<usize>((H_FIELDS + field) << 2)); }
@inline export function pi(slot: i32): i32 { return load<i32>(oPI + (<usize>slot << 2)); }
@inline export function pf(slot: i32): f64 { return load<f64>(oPF + (<usize>slot << 3)); }
@inline export function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
@inline export function i32At(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
@inline export function rowF64(base: usize, row: i32): usize { return base + ((<usize>row * <usize>cap) << 3); }
@inline export function rowI32(base: usize, row: i32): usize { return base + ((<usize>row * <usize>cap) << 2); }
@inline export function bitAt(base: usize, i: i32): i32 { return (load<u32>(base + (<usize>(i >>> 5) << 2)) >>> (<u32>i & 31)) & 1; }

export function readHeader(): bool {
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
@inline export function podReq(r: i32, nonZero: bool): f64 {
  if (r == 0) return nonZero ? pf(PF_NZ_CPU) : pf(PF_CPU);
  if (r == 1) return nonZero ? pf(PF_NZ_MEM) : pf(PF_MEM);
  if (r == 2) return pf(PF_EPH);
  return pf(PF_EXT + r - 3);
}
@inline export function allocOf(r: i32, i: i32): f64 {
  if (r == 0) return f64At(oAllocCpu, i);
  if (r == 1) return f64At(oAllocMem, i);
  if (r == 2) return f64At(oAllocEph, i);
  return f64At(rowF64(oAllocExt, r - 3), i);
}
/** Node's requested amount of `r` plus the pod's (NonZeroRequested for cpu/memory when `nonZero`). */
@inline export function requestedOf(r: i32, i: i32, nonZero: bool): f64 {
  if (r == 0) return (nonZero ? f64At(oNzCpu, i) : f64At(oReqCpu, i)) + podReq(0, nonZero);
  if (r == 1) return (nonZero ? f64At(oNzMem, i) : f64At(oReqMem, i)) + podReq(1, nonZero);
  if (r == 2) return f64At(oReqEph, i) + pf(PF_EPH);
  return f64At(rowF64(oReqExt, r - 3), i) + pf(PF_EXT + r - 3);
}
/** Extended resources the pod does not request are left out of scoring (upstream: (0, 0)). */
@inline export function skipped(r: i32, nonZero: bool): bool { return r >= 3 && podReq(r, nonZero) == 0; }
/** Base address of resource `r`'s allocatable column. */
export function allocBase(r: i32): usize {
  if (r == 0) return oAllocCpu;
  if (r == 1) return oAllocMem;
  if (r == 2) return oAllocEph;
  return rowF64(oAllocExt, r - 3);
}
/** Base address of the node-side requested column scoring uses for `r`. */
export function reqBase(r: i32, nonZero: bool): usize {
  if (r == 0) return nonZero ? oNzCpu : oReqCpu;
  if (r == 1) return nonZero ? oNzMem : oReqMem;
  if (r == 2) return oReqEph;
  return rowF64(oReqExt, r - 3);
}

export function prepare(): void {
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
  prepareFast(nf, nbal);
}

function prepareFast(nf: i32, nbal: i32): void {
  fastOtherFit = pf(PF_EPH) > 0;
  for (let k = 0; k < nExt; k++) if (pf(PF_EXT + k) > 0) fastOtherFit = true;
  fwCpu = 0; fwMem = 0;
  let ok = wFit == 0 || strategy == STRATEGY_LEAST || strategy == STRATEGY_MOST;
  if (wFit != 0) {
    for (let j = 0; j < nf; j++) {
      const r = pi(PI_FIT_RES + j);
      if (skipped(r, true)) continue;
      if (r == 0) fwCpu = pi(PI_FIT_W + j);
      else if (r == 1) fwMem = pi(PI_FIT_W + j);
      else ok = false;
    }
  }
  if (wBal != 0 && !balancedBestEffort) {
    let cpu = false; let mem = false; let other = false;
    for (let j = 0; j < nbal; j++) {
      const r = pi(PI_BAL_RES + j);
      if (skipped(r, false)) continue;
      if (r == 0) cpu = true; else if (r == 1) mem = true; else other = true;
    }
    if (!cpu || !mem || other) ok = false;
  }
  fastOk = ok;
}

