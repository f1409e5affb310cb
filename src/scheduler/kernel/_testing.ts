/**
 * Seeded random clusters for the agreement tests and the kernel benchmark (test/bench support
 * only; not part of the public face).
 */
import type { Kernel, NodeState, PodInput, PodRequests, ResourceId, ScoringProfile } from "./types.ts";

/** mulberry32: small seeded PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Shape {
  readonly ext: number;
  readonly taintWords: number;
}

const GiB = 2 ** 30;

export class RandomCluster {
  /**
   * `small` draws tiny amounts (0..12) so exact divisions, ties, clamps and zero allocatable are
   * common: the edge cases of the kernel's integer arithmetic.
   */
  constructor(private readonly r: () => number, readonly shape: Shape, readonly small = false) {}
  int(lo: number, hi: number): number { return lo + Math.floor(this.r() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.r() * xs.length)];
    if (x === undefined) throw new Error("pick from empty list");
    return x;
  }

  private bits(p: number): number[] {
    return Array.from({ length: this.shape.taintWords }, () => {
      let w = 0;
      for (let b = 0; b < 32; b++) if (this.chance(p)) w |= 1 << b;
      return w;
    });
  }
  private resources(): ResourceId[] {
    const all: ResourceId[] = ["cpu", "memory", "ephemeral-storage", ...Array.from({ length: this.shape.ext }, (_, k) => k)];
    return all.filter(() => this.chance(0.6));
  }

  profile(): ScoringProfile {
    let fitRes = this.resources();
    if (fitRes.length === 0) fitRes = ["cpu"];
    const shape: { utilization: number; score: number }[] = [];
    let u = this.int(0, 30);
    for (let k = this.int(1, 4); k > 0 && u <= 100; k--) {
      shape.push({ utilization: u, score: this.int(0, 10) });
      u += this.int(1, 50);
    }
    return {
      weights: {
        nodeResourcesFit: this.int(0, 5), balancedAllocation: this.int(0, 5), taintToleration: this.int(0, 5),
        nodeAffinity: this.int(0, 5), imageLocality: this.int(0, 5),
      },
      fit: {
        strategy: this.pick(["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"] as const),
        resources: fitRes.map((name) => ({ name, weight: this.int(1, 10) })),
        shape,
      },
      balancedResources: this.chance(0.7) ? ["cpu", "memory"] : this.resources(),
    };
  }

  /**
   * A profile of the shape most clusters run (and the SIMD build's fused loop covers): fit over
   * cpu and/or memory with LeastAllocated or MostAllocated, BalancedAllocation over cpu + memory,
   * random weights (any of them possibly 0).
   */
  cpuMemoryProfile(): ScoringProfile {
    const fitRes: ResourceId[] = this.pick([["cpu", "memory"], ["memory", "cpu"], ["cpu"], ["memory"]] as ResourceId[][]);
    return {
      weights: {
        nodeResourcesFit: this.int(0, 5), balancedAllocation: this.int(0, 5), taintToleration: this.int(0, 5),
        nodeAffinity: this.int(0, 5), imageLocality: this.int(0, 5),
      },
      fit: {
        strategy: this.pick(["LeastAllocated", "MostAllocated"] as const),
        resources: fitRes.map((name) => ({ name, weight: this.int(1, 100) })),
      },
      balancedResources: this.pick([["cpu", "memory"], ["memory", "cpu"]] as ResourceId[][]),
    };
  }

  node(): NodeState {
    if (this.small) return this.smallNode();
    const zero = this.chance(0.05);
    const cpu = zero ? 0 : this.pick([1000, 2000, 4000, 8000, 16000, this.int(1, 96000)]);
    const mem = zero ? 0 : this.pick([4 * GiB, 16 * GiB, 64 * GiB, this.int(1, 2 ** 40)]);
    const eph = this.chance(0.2) ? 0 : this.int(0, 2 ** 38);
    const use = (a: number): number => (this.chance(0.1) ? this.int(0, a * 2 + 10) : Math.floor(a * this.r()));
    const ext = Array.from({ length: this.shape.ext }, () => (this.chance(0.5) ? 0 : this.int(1, 8)));
    const reqCpu = use(cpu);
    const reqMem = use(mem);
    return {
      allocatable: { cpu, memory: mem, ephemeralStorage: eph, pods: this.int(0, 110), extended: ext },
      requested: { cpu: reqCpu, memory: reqMem, ephemeralStorage: use(eph), extended: ext.map((e) => use(e)) },
      nonZeroRequested: { cpu: reqCpu + this.int(0, 1) * 100 * this.int(0, 5), memory: reqMem + this.int(0, 1) * 200 * 2 ** 20 },
      podCount: this.int(0, 110),
      unschedulable: this.chance(0.08),
      taints: this.bits(0.01),
      // Occasionally dense, so normalization sees maxima above 15 (the SIMD table path's limit).
      preferNoScheduleTaints: this.bits(this.chance(0.1) ? 0.7 : 0.05),
    };
  }

  private smallNode(): NodeState {
    const amt = (): number => this.int(0, 12);
    const cpu = amt(), memory = amt();
    const reqCpu = this.int(0, cpu + 1), reqMem = this.int(0, memory + 1);
    const ext = Array.from({ length: this.shape.ext }, amt);
    return {
      allocatable: { cpu, memory, ephemeralStorage: amt(), pods: this.int(0, 4), extended: ext },
      requested: { cpu: reqCpu, memory: reqMem, ephemeralStorage: this.int(0, 3), extended: ext.map((e) => this.int(0, e)) },
      nonZeroRequested: { cpu: reqCpu + this.int(0, 2), memory: reqMem + this.int(0, 2) },
      podCount: this.int(0, 4),
      unschedulable: this.chance(0.05),
      taints: this.bits(0.005),
      preferNoScheduleTaints: this.bits(0.03),
    };
  }

  podRequests(): PodRequests {
    if (this.small) {
      const cpu = this.int(0, 4), memory = this.int(0, 4);
      return {
        cpu, memory, ephemeralStorage: this.int(0, 2), extended: Array.from({ length: this.shape.ext }, () => this.int(0, 2)),
        nonZeroCpu: cpu === 0 ? 1 : cpu, nonZeroMemory: memory === 0 ? 2 : memory,
      };
    }
    const cpu = this.chance(0.2) ? 0 : this.pick([100, 250, 500, 1000, this.int(1, 8000)]);
    const memory = this.chance(0.2) ? 0 : this.pick([128 * 2 ** 20, GiB, this.int(1, 16 * GiB)]);
    return {
      cpu, memory,
      ephemeralStorage: this.chance(0.7) ? 0 : this.int(0, GiB),
      extended: Array.from({ length: this.shape.ext }, () => (this.chance(0.7) ? 0 : this.int(1, 4))),
      nonZeroCpu: cpu === 0 ? 100 : cpu,
      nonZeroMemory: memory === 0 ? 200 * 2 ** 20 : memory,
    };
  }

  pod(n: number): PodInput {
    const words = Math.ceil(n / 32);
    const bitset = (p: number): Uint32Array => {
      const b = new Uint32Array(words);
      for (let i = 0; i < n; i++) if (this.chance(p)) b[i >>> 5] = (b[i >>> 5] ?? 0) | (1 << (i & 31));
      return b;
    };
    const numContainers = this.int(1, 4);
    const base: PodInput = {
      requests: this.podRequests(),
      toleratesUnschedulable: this.chance(0.1),
      toleratedTaints: this.bits(0.5),
      toleratedPreferTaints: this.bits(0.3),
      numContainers,
      seed: this.int(-(2 ** 31), 2 ** 31 - 1),
    };
    const mb = 2 ** 20;
    // Exact score boundaries: min + span·k/100 is an integer for k a multiple of 25 (span = (1000c − 23) MiB).
    const boundary = (): number => 23 * mb + ((1000 * numContainers - 23) * mb * this.pick([25, 50, 75])) / 100 + this.int(-1, 1);
    const img = (): number => this.pick([0, 23 * mb, 1000 * mb * numContainers, boundary(), this.int(0, 2000 * mb * numContainers), this.int(0, 2 ** 40)]);
    return {
      ...base,
      ...(this.chance(0.5) ? { selector: bitset(0.8) } : {}),
      ...(this.chance(0.5) ? { preferredWeights: Int32Array.from({ length: n }, () => (this.chance(0.4) ? this.int(0, this.small ? 6 : 300) : 0)) } : {}),
      ...(this.chance(0.5) ? { imageSums: Float64Array.from({ length: n }, () => (this.chance(0.3) ? img() : 0)) } : {}),
      ...(this.chance(0.2) ? { externalReject: bitset(0.1) } : {}),
      ...(this.chance(0.2) ? { extraScore: Int32Array.from({ length: n }, () => this.int(0, 400)) } : {}),
    };
  }

  /** Fills `n` nodes into every kernel identically. */
  fill(kernels: readonly Kernel[], n: number): void {
    for (const k of kernels) k.setNodeCount(n);
    for (let i = 0; i < n; i++) {
      const node = this.node();
      for (const k of kernels) k.setNode(i, node);
    }
  }
}
