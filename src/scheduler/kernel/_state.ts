/**
 * Node state and per-pod inputs in the shared layout, written from TypeScript for every kernel
 * implementation (WASM linear memory or a plain ArrayBuffer for the twin). Incremental updates are
 * plain typed-array writes: they never cross into WASM.
 */
import {
  computeLayout, F, type Layout, MAX_EXTENDED, MAX_SCORING_RESOURCES, MAX_TAINT_WORDS, NODE_UNSCHEDULABLE,
  PF, PI, POD_HAS_EXTERNAL_FILTER, POD_HAS_EXTRA_SCORE, POD_HAS_IMAGES, POD_HAS_PREFERRED, POD_HAS_SELECTOR,
  POD_TOLERATES_UNSCHEDULABLE, RESULT_BEST, RESULT_FEASIBLE, roundCapacity, writeHeader,
} from "./_layout.ts";
import {
  type Amounts, MAX_AMOUNT, type NodeState, type PodInput, type PodRequests, REASON_COUNT, type ResourceId,
  type ScoringProfile,
} from "./types.ts";

/** Where the bytes live. `ensure` may replace the buffer (views must then be rebuilt). */
export interface Backing {
  buffer(): ArrayBuffer;
  /** Makes at least `bytes` bytes addressable; returns the (possibly new) buffer. */
  ensure(bytes: number): ArrayBuffer;
}

/** An ArrayBuffer backing for the twin (grows by copying). */
export function arrayBacking(): Backing {
  let buf = new ArrayBuffer(0);
  return {
    buffer: () => buf,
    ensure(bytes) {
      if (buf.byteLength >= bytes) return buf;
      const next = new ArrayBuffer(Math.max(bytes, buf.byteLength * 2));
      new Uint8Array(next).set(new Uint8Array(buf));
      buf = next;
      return buf;
    },
  };
}

/** Typed views over one layout. Recreated after every growth. */
export class Views {
  readonly allocCpu: Float64Array; readonly allocMem: Float64Array; readonly allocEph: Float64Array;
  readonly reqCpu: Float64Array; readonly reqMem: Float64Array; readonly reqEph: Float64Array;
  readonly nzCpu: Float64Array; readonly nzMem: Float64Array;
  /** Row-major [ext][capacity]. */
  readonly allocExt: Float64Array; readonly reqExt: Float64Array;
  readonly imageSums: Float64Array;
  readonly allocPods: Int32Array; readonly podCount: Int32Array; readonly flags: Int32Array;
  /** Row-major [word][capacity]. */
  readonly taintHard: Int32Array; readonly taintPrefer: Int32Array;
  readonly preferredWeights: Int32Array; readonly extraScore: Int32Array;
  readonly status: Int32Array; readonly score: Int32Array; readonly rawTaint: Int32Array; readonly rawAffinity: Int32Array;
  readonly selector: Uint32Array; readonly externalReject: Uint32Array;
  readonly pf: Float64Array; readonly pi: Int32Array; readonly reasons: Int32Array; readonly rtcr: Int32Array;
  readonly result: Int32Array;
  readonly header: Int32Array;

  constructor(buf: ArrayBuffer, readonly layout: Layout) {
    const c = layout.capacity;
    const o = layout.offsets;
    const f = (field: number, len: number): Float64Array => new Float64Array(buf, o[field] ?? 0, len);
    const i = (field: number, len: number): Int32Array => new Int32Array(buf, o[field] ?? 0, len);
    const ext = Math.max(layout.ext, 1);
    this.allocCpu = f(F.allocCpu, c); this.allocMem = f(F.allocMem, c); this.allocEph = f(F.allocEph, c);
    this.reqCpu = f(F.reqCpu, c); this.reqMem = f(F.reqMem, c); this.reqEph = f(F.reqEph, c);
    this.nzCpu = f(F.nzCpu, c); this.nzMem = f(F.nzMem, c);
    this.allocExt = f(F.allocExt, c * ext); this.reqExt = f(F.reqExt, c * ext);
    this.imageSums = f(F.imageSums, c);
    this.allocPods = i(F.allocPods, c); this.podCount = i(F.podCount, c); this.flags = i(F.flags, c);
    this.taintHard = i(F.taintHard, c * layout.taintWords); this.taintPrefer = i(F.taintPrefer, c * layout.taintWords);
    this.preferredWeights = i(F.preferredWeights, c); this.extraScore = i(F.extraScore, c);
    this.status = i(F.status, c); this.score = i(F.score, c); this.rawTaint = i(F.rawTaint, c); this.rawAffinity = i(F.rawAffinity, c);
    this.selector = new Uint32Array(buf, o[F.selector] ?? 0, c / 32);
    this.externalReject = new Uint32Array(buf, o[F.externalReject] ?? 0, c / 32);
    this.pf = f(F.paramsF64, 16); this.pi = i(F.paramsI32, 64); this.reasons = i(F.reasonCounts, 16);
    this.rtcr = i(F.rtcrTable, 104); this.result = i(F.result, 4);
    this.header = new Int32Array(buf, 0, 64);
  }
}

/** Node fields that survive a relayout (everything else is per call). */
const NODE_F64 = ["allocCpu", "allocMem", "allocEph", "reqCpu", "reqMem", "reqEph", "nzCpu", "nzMem"] as const;
const NODE_I32 = ["allocPods", "podCount", "flags"] as const;

function checkAmount(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_AMOUNT) {
    throw new RangeError(`${what} must be an integer in [0, 2^46], got ${v}`);
  }
}
function checkAmounts(what: string, a: Amounts, ext: number): void {
  checkAmount(`${what}.cpu`, a.cpu);
  checkAmount(`${what}.memory`, a.memory);
  checkAmount(`${what}.ephemeralStorage`, a.ephemeralStorage);
  if (a.extended) {
    if (a.extended.length > ext) throw new RangeError(`${what}.extended has ${a.extended.length} entries, kernel has ${ext} extended resources`);
    for (let k = 0; k < a.extended.length; k++) checkAmount(`${what}.extended[${k}]`, a.extended[k] ?? 0);
  }
}
function checkWords(what: string, w: ArrayLike<number>, words: number): void {
  if (w.length > words) throw new RangeError(`${what} has ${w.length} words, kernel has taintWords=${words}`);
}

/** Copies `len` entries of `src` into `dst` unless `src` already is (a view at the start of) `dst`. */
function copyIn<T extends Uint32Array | Int32Array | Float64Array>(dst: T, src: T, len: number): void {
  if (src.buffer === dst.buffer && src.byteOffset === dst.byteOffset) return;
  dst.set(src.subarray(0, len));
}

/** Builds the RequestedToCapacityRatio lookup (utilization 0..100 → score 0..100), upstream's broken-linear function. */
export function rtcrTable(shape: readonly { utilization: number; score: number }[]): Int32Array {
  const pts = shape.map((p) => ({ u: p.utilization, s: p.score * 10 }));
  const table = new Int32Array(101);
  for (let p = 0; p <= 100; p++) {
    let v = pts[pts.length - 1]?.s ?? 0;
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i];
      if (cur !== undefined && p <= cur.u) {
        const prev = pts[i - 1];
        v = i === 0 || prev === undefined ? cur.s : prev.s + Math.trunc(((cur.s - prev.s) * (p - prev.u)) / (cur.u - prev.u));
        break;
      }
    }
    table[p] = v;
  }
  return table;
}

/**
 * Owns the layout and implements every state-changing `Kernel` method; the implementations add
 * only their `compute(n)`.
 */
export class KernelState {
  layout: Layout;
  v: Views;
  nodeCount = 0;

  constructor(private readonly backing: Backing, readonly extendedResources: readonly string[], readonly taintWords: number, initialCapacity: number) {
    if (extendedResources.length > MAX_EXTENDED) throw new RangeError(`at most ${MAX_EXTENDED} extended resources, got ${extendedResources.length}`);
    if (!Number.isInteger(taintWords) || taintWords < 1 || taintWords > MAX_TAINT_WORDS) {
      throw new RangeError(`taintWords must be an integer in [1, ${MAX_TAINT_WORDS}], got ${taintWords}`);
    }
    this.layout = computeLayout(roundCapacity(initialCapacity), extendedResources.length, taintWords);
    const buf = backing.ensure(this.layout.bytes);
    new Uint8Array(buf, 0, this.layout.bytes).fill(0);
    this.v = new Views(buf, this.layout);
    writeHeader(this.v.header, this.layout);
  }

  get capacity(): number { return this.layout.capacity; }

  /** Re-creates views if the backing buffer changed underneath (WASM memory grown elsewhere). */
  views(): Views {
    if (this.v.header.buffer !== this.backing.buffer()) this.v = new Views(this.backing.buffer(), this.layout);
    return this.v;
  }

  setNodeCount(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 1 << 24) throw new RangeError(`node count must be an integer in [0, 2^24], got ${n}`);
    if (n > this.layout.capacity) this.grow(roundCapacity(Math.max(n, this.layout.capacity * 2)));
    const v = this.views();
    // Slots beyond the new count are cleared so a later growth of nodeCount starts from zero.
    for (let i = n; i < this.nodeCount; i++) this.clearNode(v, i);
    this.nodeCount = n;
  }

  private clearNode(v: Views, i: number): void {
    const c = this.layout.capacity;
    for (const k of NODE_F64) v[k][i] = 0;
    for (const k of NODE_I32) v[k][i] = 0;
    for (let e = 0; e < this.layout.ext; e++) { v.allocExt[e * c + i] = 0; v.reqExt[e * c + i] = 0; }
    for (let w = 0; w < this.taintWords; w++) { v.taintHard[w * c + i] = 0; v.taintPrefer[w * c + i] = 0; }
  }

  private grow(capacity: number): void {
    const old = this.views();
    const oc = this.layout.capacity;
    const n = this.nodeCount;
    const saved = {
      f64: NODE_F64.map((k) => old[k].slice(0, n)),
      i32: NODE_I32.map((k) => old[k].slice(0, n)),
      ext: Array.from({ length: this.layout.ext }, (_, e) => [old.allocExt.slice(e * oc, e * oc + n), old.reqExt.slice(e * oc, e * oc + n)] as const),
      taints: Array.from({ length: this.taintWords }, (_, w) => [old.taintHard.slice(w * oc, w * oc + n), old.taintPrefer.slice(w * oc, w * oc + n)] as const),
      pi: old.pi.slice(), pf: old.pf.slice(), rtcr: old.rtcr.slice(),
    };
    this.layout = computeLayout(capacity, this.layout.ext, this.taintWords);
    const buf = this.backing.ensure(this.layout.bytes);
    new Uint8Array(buf, 0, this.layout.bytes).fill(0);
    const v = new Views(buf, this.layout);
    this.v = v;
    writeHeader(v.header, this.layout);
    NODE_F64.forEach((k, j) => v[k].set(saved.f64[j] ?? []));
    NODE_I32.forEach((k, j) => v[k].set(saved.i32[j] ?? []));
    saved.ext.forEach(([a, r], e) => { v.allocExt.set(a, e * capacity); v.reqExt.set(r, e * capacity); });
    saved.taints.forEach(([h, p], w) => { v.taintHard.set(h, w * capacity); v.taintPrefer.set(p, w * capacity); });
    v.pi.set(saved.pi); v.pf.set(saved.pf); v.rtcr.set(saved.rtcr);
  }

  private index(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.nodeCount) throw new RangeError(`node index ${i} out of range [0, ${this.nodeCount})`);
  }

  private resourceIndex(what: string, r: ResourceId): number {
    if (r === "cpu") return 0;
    if (r === "memory") return 1;
    if (r === "ephemeral-storage") return 2;
    if (typeof r === "number" && Number.isInteger(r) && r >= 0 && r < this.layout.ext) return 3 + r;
    throw new RangeError(`${what}: unknown resource ${JSON.stringify(r)} (cpu, memory, ephemeral-storage or an extended index < ${this.layout.ext})`);
  }

  setProfile(p: ScoringProfile): void {
    const v = this.views();
    const weight = (name: string, w: number): number => {
      if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`weight of ${name} must be an integer in [0, 100], got ${w}`);
      return w;
    };
    const strategy = ["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"].indexOf(p.fit.strategy);
    if (strategy < 0) throw new RangeError(`unknown scoring strategy ${JSON.stringify(p.fit.strategy)}`);
    const fitRes = p.fit.resources;
    if (fitRes.length < 1 || fitRes.length > MAX_SCORING_RESOURCES) throw new RangeError(`fit.resources must have 1..${MAX_SCORING_RESOURCES} entries, got ${fitRes.length}`);
    const fitIds = fitRes.map((r, j) => this.resourceIndex(`fit.resources[${j}]`, r.name));
    if (new Set(fitIds).size !== fitIds.length) throw new RangeError("fit.resources has duplicate resources");
    fitRes.forEach((r, j) => {
      if (!Number.isInteger(r.weight) || r.weight < 1 || r.weight > 100) throw new RangeError(`fit.resources[${j}].weight must be an integer in [1, 100], got ${r.weight}`);
    });
    const bal = p.balancedResources;
    if (bal.length > MAX_SCORING_RESOURCES) throw new RangeError(`balancedResources has more than ${MAX_SCORING_RESOURCES} entries`);
    const balIds = bal.map((r, j) => this.resourceIndex(`balancedResources[${j}]`, r));
    if (new Set(balIds).size !== balIds.length) throw new RangeError("balancedResources has duplicate resources");
    let table: Int32Array = new Int32Array(101);
    if (strategy === 2) {
      const shape = p.fit.shape;
      if (!shape || shape.length < 1) throw new RangeError("fit.shape is required for RequestedToCapacityRatio");
      shape.forEach((pt, j) => {
        if (!Number.isInteger(pt.utilization) || pt.utilization < 0 || pt.utilization > 100) throw new RangeError(`fit.shape[${j}].utilization must be an integer in [0, 100], got ${pt.utilization}`);
        if (!Number.isInteger(pt.score) || pt.score < 0 || pt.score > 10) throw new RangeError(`fit.shape[${j}].score must be an integer in [0, 10], got ${pt.score}`);
        const prev = shape[j - 1];
        if (prev && pt.utilization <= prev.utilization) throw new RangeError(`fit.shape[${j}].utilization must be greater than the previous point's`);
      });
      table = rtcrTable(shape);
    }
    const pi = v.pi;
    pi[PI.wFit] = weight("nodeResourcesFit", p.weights.nodeResourcesFit);
    pi[PI.wBalanced] = weight("balancedAllocation", p.weights.balancedAllocation);
    pi[PI.wTaint] = weight("taintToleration", p.weights.taintToleration);
    pi[PI.wAffinity] = weight("nodeAffinity", p.weights.nodeAffinity);
    pi[PI.wImage] = weight("imageLocality", p.weights.imageLocality);
    pi[PI.strategy] = strategy;
    pi[PI.fitCount] = fitIds.length;
    fitIds.forEach((id, j) => { pi[PI.fitResources + j] = id; pi[PI.fitWeights + j] = fitRes[j]?.weight ?? 0; });
    pi[PI.balancedCount] = balIds.length;
    balIds.forEach((id, j) => { pi[PI.balancedResources + j] = id; });
    v.rtcr.set(table);
  }

  setNode(i: number, node: NodeState): void {
    this.index(i);
    const ext = this.layout.ext;
    checkAmounts("allocatable", node.allocatable, ext);
    checkAmounts("requested", node.requested, ext);
    checkAmount("nonZeroRequested.cpu", node.nonZeroRequested.cpu);
    checkAmount("nonZeroRequested.memory", node.nonZeroRequested.memory);
    const pods = node.allocatable.pods;
    if (!Number.isInteger(pods) || pods < 0 || pods > 0x7fffffff) throw new RangeError(`allocatable.pods must be a non-negative 32-bit integer, got ${pods}`);
    if (!Number.isInteger(node.podCount) || node.podCount < 0 || node.podCount > 0x7fffffff) throw new RangeError(`podCount must be a non-negative 32-bit integer, got ${node.podCount}`);
    checkWords("taints", node.taints, this.taintWords);
    checkWords("preferNoScheduleTaints", node.preferNoScheduleTaints, this.taintWords);
    const v = this.views();
    const c = this.layout.capacity;
    v.allocCpu[i] = node.allocatable.cpu; v.allocMem[i] = node.allocatable.memory; v.allocEph[i] = node.allocatable.ephemeralStorage;
    v.reqCpu[i] = node.requested.cpu; v.reqMem[i] = node.requested.memory; v.reqEph[i] = node.requested.ephemeralStorage;
    v.nzCpu[i] = node.nonZeroRequested.cpu; v.nzMem[i] = node.nonZeroRequested.memory;
    for (let k = 0; k < ext; k++) {
      v.allocExt[k * c + i] = node.allocatable.extended?.[k] ?? 0;
      v.reqExt[k * c + i] = node.requested.extended?.[k] ?? 0;
    }
    v.allocPods[i] = pods; v.podCount[i] = node.podCount;
    v.flags[i] = node.unschedulable ? NODE_UNSCHEDULABLE : 0;
    for (let w = 0; w < this.taintWords; w++) {
      v.taintHard[w * c + i] = node.taints[w] ?? 0;
      v.taintPrefer[w * c + i] = node.preferNoScheduleTaints[w] ?? 0;
    }
  }

  addPodToNode(i: number, pod: PodRequests, sign = 1): void {
    this.index(i);
    checkAmounts("pod", pod, this.layout.ext);
    checkAmount("pod.nonZeroCpu", pod.nonZeroCpu);
    checkAmount("pod.nonZeroMemory", pod.nonZeroMemory);
    const v = this.views();
    if (sign < 0 && v.podCount[i] === 0) throw new RangeError(`node ${i} has no pods to remove`);
    const c = this.layout.capacity;
    v.reqCpu[i] = (v.reqCpu[i] ?? 0) + sign * pod.cpu;
    v.reqMem[i] = (v.reqMem[i] ?? 0) + sign * pod.memory;
    v.reqEph[i] = (v.reqEph[i] ?? 0) + sign * pod.ephemeralStorage;
    v.nzCpu[i] = (v.nzCpu[i] ?? 0) + sign * pod.nonZeroCpu;
    v.nzMem[i] = (v.nzMem[i] ?? 0) + sign * pod.nonZeroMemory;
    const e = pod.extended;
    if (e) for (let k = 0; k < e.length; k++) v.reqExt[k * c + i] = (v.reqExt[k * c + i] ?? 0) + sign * (e[k] ?? 0);
    v.podCount[i] = (v.podCount[i] ?? 0) + sign;
  }

  copyNode(from: number, to: number): void {
    this.index(from);
    this.index(to);
    const v = this.views();
    const c = this.layout.capacity;
    for (const k of NODE_F64) v[k][to] = v[k][from] ?? 0;
    for (const k of NODE_I32) v[k][to] = v[k][from] ?? 0;
    for (let e = 0; e < this.layout.ext; e++) {
      v.allocExt[e * c + to] = v.allocExt[e * c + from] ?? 0;
      v.reqExt[e * c + to] = v.reqExt[e * c + from] ?? 0;
    }
    for (let w = 0; w < this.taintWords; w++) {
      v.taintHard[w * c + to] = v.taintHard[w * c + from] ?? 0;
      v.taintPrefer[w * c + to] = v.taintPrefer[w * c + from] ?? 0;
    }
  }

  /** Validates and writes one pod's inputs; returns nodeCount. */
  writePod(pod: PodInput): number {
    const n = this.nodeCount;
    const ext = this.layout.ext;
    const r = pod.requests;
    checkAmounts("requests", r, ext);
    checkAmount("requests.nonZeroCpu", r.nonZeroCpu);
    checkAmount("requests.nonZeroMemory", r.nonZeroMemory);
    checkWords("toleratedTaints", pod.toleratedTaints, this.taintWords);
    checkWords("toleratedPreferTaints", pod.toleratedPreferTaints, this.taintWords);
    if (!Number.isInteger(pod.numContainers) || pod.numContainers < 1 || pod.numContainers > 1 << 16) {
      throw new RangeError(`numContainers must be an integer in [1, 65536], got ${pod.numContainers}`);
    }
    if (!Number.isInteger(pod.seed)) throw new RangeError(`seed must be an integer, got ${pod.seed}`);
    const words = Math.ceil(n / 32);
    const need = (what: string, a: { length: number } | undefined, len: number): void => {
      if (a !== undefined && a.length < len) throw new RangeError(`${what} has length ${a.length}, need at least ${len} for ${n} nodes`);
    };
    need("selector", pod.selector, words);
    need("externalReject", pod.externalReject, words);
    need("preferredWeights", pod.preferredWeights, n);
    need("imageSums", pod.imageSums, n);
    need("extraScore", pod.extraScore, n);
    const v = this.views();
    const pf = v.pf;
    pf[PF.cpu] = r.cpu; pf[PF.memory] = r.memory; pf[PF.ephemeral] = r.ephemeralStorage;
    pf[PF.nzCpu] = r.nonZeroCpu; pf[PF.nzMemory] = r.nonZeroMemory;
    for (let k = 0; k < ext; k++) pf[PF.ext + k] = r.extended?.[k] ?? 0;
    const pi = v.pi;
    let flags = pod.toleratesUnschedulable ? POD_TOLERATES_UNSCHEDULABLE : 0;
    // Values are not checked per element (O(nodes) per pod): see the PodInput preconditions.
    if (pod.selector) { flags |= POD_HAS_SELECTOR; copyIn(v.selector, pod.selector, words); }
    if (pod.externalReject) { flags |= POD_HAS_EXTERNAL_FILTER; copyIn(v.externalReject, pod.externalReject, words); }
    if (pod.preferredWeights) { flags |= POD_HAS_PREFERRED; copyIn(v.preferredWeights, pod.preferredWeights, n); }
    if (pod.imageSums) { flags |= POD_HAS_IMAGES; copyIn(v.imageSums, pod.imageSums, n); }
    if (pod.extraScore) { flags |= POD_HAS_EXTRA_SCORE; copyIn(v.extraScore, pod.extraScore, n); }
    pi[PI.podFlags] = flags;
    pi[PI.numContainers] = pod.numContainers;
    pi[PI.seed] = pod.seed | 0;
    for (let w = 0; w < 8; w++) {
      pi[PI.toleratedHard + w] = pod.toleratedTaints[w] ?? 0;
      pi[PI.toleratedPrefer + w] = pod.toleratedPreferTaints[w] ?? 0;
    }
    return n;
  }

  best(): number { return this.views().result[RESULT_BEST] ?? -1; }
  feasible(): number { return this.views().result[RESULT_FEASIBLE] ?? 0; }
  reasonCountsView(): Int32Array { return this.views().reasons.subarray(0, REASON_COUNT); }
}
