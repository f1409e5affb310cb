/**
 * Runtime-neutral part of `npm run bench -- kernel`: measures filter+score ns/node for the
 * TypeScript twin, WASM scalar and WASM SIMD on one random 5,000-node cluster. Runs under Node
 * (imported by bench/kernel.ts) and Deno (`deno run --allow-read bench/_kernel_measure.ts`, which
 * prints the JSON result on stdout).
 */
import process from "node:process";
import { RandomCluster, rng } from "../src/scheduler/kernel/_testing.ts";
import { createKernel, createTwinKernel, DEFAULT_PROFILE, type Kernel, type PodInput } from "../src/scheduler/kernel/mod.ts";

export interface Measurement {
  runtime: string;
  nodes: number;
  podsPerRun: number;
  runs: number;
  /** scenario → impl → median ns per node per pod */
  nsPerNode: Record<string, Record<string, number>>;
  /** CPU ns per iteration of a trivial JS loop (one f64 division): how slow the machine is right now. */
  calibrationNs: number;
}

/** A trivial typed-array loop with one division, to read absolute figures against. */
function calibrate(): number {
  const a = new Float64Array(5000).fill(3), b = new Float64Array(5000).fill(7);
  let sum = 0;
  const t0 = now();
  for (let r = 0; r < 400; r++) for (let i = 0; i < 5000; i++) sum += Math.trunc(((a[i] ?? 0) * 100) / (b[i] ?? 1));
  const ns = ((now() - t0) * 1e6) / 2e6;
  return sum > 0 ? ns : NaN;
}

export const NODES = 5000;
const PODS_PER_RUN = 100;
const RUNS = 11;

/**
 * Process CPU time in ms (user + system). The machine is shared with other jobs, and CPU time is
 * far less sensitive to being descheduled than wall-clock time; every run is single-threaded.
 */
function now(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Builds the same cluster into each kernel and pods for two scenarios. */
function setup(kernels: Kernel[]): { basic: PodInput[]; full: PodInput[] } {
  const r = rng(20261122);
  const rc = new RandomCluster(r, { ext: 1, taintWords: 1 });
  rc.fill(kernels, NODES);
  // Realistic node state: everything schedulable, a few tainted, modest usage.
  for (let i = 0; i < NODES; i++) {
    const cpu = rc.pick([4000, 8000, 16000, 32000]);
    const mem = cpu * 4 * 2 ** 20;
    const used = rc.int(0, 60) / 100;
    const node = {
      allocatable: { cpu, memory: mem, ephemeralStorage: 100 * 2 ** 30, pods: 110, extended: [rc.chance(0.1) ? 8 : 0] },
      requested: { cpu: Math.floor(cpu * used), memory: Math.floor(mem * used * 0.9), ephemeralStorage: 0, extended: [0] },
      nonZeroRequested: { cpu: Math.floor(cpu * used), memory: Math.floor(mem * used * 0.9) },
      podCount: rc.int(0, 60),
      unschedulable: rc.chance(0.005),
      taints: [rc.chance(0.02) ? 1 : 0],
      preferNoScheduleTaints: [rc.chance(0.1) ? 2 : 0],
    };
    for (const k of kernels) k.setNode(i, node);
  }
  const words = Math.ceil(NODES / 32);
  const basic: PodInput[] = [];
  const full: PodInput[] = [];
  for (let p = 0; p < 16; p++) {
    const requests = { cpu: rc.pick([100, 250, 500, 1000]), memory: rc.pick([128, 256, 512, 1024]) * 2 ** 20, ephemeralStorage: 0, extended: [0], nonZeroCpu: 0, nonZeroMemory: 0 };
    const req = { ...requests, nonZeroCpu: requests.cpu, nonZeroMemory: requests.memory };
    const base = { requests: req, toleratesUnschedulable: false, toleratedTaints: [0], toleratedPreferTaints: [0], numContainers: 2, seed: p + 1 };
    basic.push(base);
    const selector = new Uint32Array(words);
    for (let i = 0; i < NODES; i++) if (rc.chance(0.9)) selector[i >>> 5] = (selector[i >>> 5] ?? 0) | (1 << (i & 31));
    const preferredWeights = Int32Array.from({ length: NODES }, () => (rc.chance(0.3) ? rc.pick([10, 50, 60]) : 0));
    const imageSums = Float64Array.from({ length: NODES }, () => (rc.chance(0.4) ? rc.int(50, 900) * 2 ** 20 : 0));
    full.push({ ...base, selector, preferredWeights, imageSums });
  }
  return { basic, full };
}

/**
 * "workload": 100 consecutive pods of one workload: same selector, affinity and images left in
 * kernel memory (`podInputViews`, no per-pod copy), requests varying.
 */
function workloadPods(k: Kernel, template: PodInput, basic: PodInput[]): PodInput[] {
  const v = k.podInputViews();
  if (template.selector) v.selector.set(template.selector);
  if (template.preferredWeights) v.preferredWeights.set(template.preferredWeights);
  if (template.imageSums) v.imageSums.set(template.imageSums);
  return basic.map((b) => ({ ...b, selector: v.selector, preferredWeights: v.preferredWeights, imageSums: v.imageSums }));
}

/** ns/node of one run of PODS_PER_RUN pods. */
function oneRun(k: Kernel, pods: PodInput[]): number {
  const t0 = now();
  for (let p = 0; p < PODS_PER_RUN; p++) k.filterAndScore(pods[p % pods.length] as PodInput);
  return ((now() - t0) * 1e6) / (PODS_PER_RUN * NODES);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function measure(runtime: string): Promise<Measurement> {
  const opts = { extendedResources: ["example.com/gpu"], taintWords: 1, initialCapacity: NODES, profile: DEFAULT_PROFILE };
  const kernels: Record<string, Kernel> = {
    ts: createTwinKernel(opts),
    "wasm-scalar": await createKernel({ ...opts, simd: false }),
    "wasm-simd": await createKernel({ ...opts, simd: true }),
  };
  const { basic, full } = setup(Object.values(kernels));
  const scenarios: Record<string, (k: Kernel) => PodInput[]> = {
    basic: () => basic,
    full: () => full,
    workload: (k) => workloadPods(k, full[0] as PodInput, basic),
  };
  const nsPerNode: Record<string, Record<string, number>> = {};
  for (const [name, podsFor] of Object.entries(scenarios)) {
    const pods = new Map(Object.values(kernels).map((k) => [k, podsFor(k)] as const));
    const podsOf = (k: Kernel): PodInput[] => pods.get(k) ?? [];
    // Sanity: all three agree on every pod before timing (best node, every status and score).
    for (let p = 0; p < basic.length; p++) {
      const seen = Object.values(kernels).map((k) => {
        const best = k.filterAndScore(podsOf(k)[p] as PodInput);
        return `${best}|${k.lastStatus().join(",")}|${k.lastScores().join(",")}`;
      });
      if (new Set(seen).size !== 1) throw new Error(`kernels disagree on scenario ${name}, pod ${p}`);
    }
    // Warm-up: 316 calls per implementation before timing. Both V8s have tiered the WASM up to
    // TurboFan by then (checked: timings equal those under --no-liftoff) and the twin is optimized.
    for (const k of Object.values(kernels)) for (let w = 0; w < 3; w++) oneRun(k, podsOf(k));
    // Runs are interleaved (ts, scalar, simd, ts, …) so every implementation sees the same load.
    const samples: Record<string, number[]> = {};
    for (let run = 0; run < RUNS; run++) {
      for (const [impl, k] of Object.entries(kernels)) (samples[impl] ??= []).push(oneRun(k, podsOf(k)));
    }
    nsPerNode[name] = Object.fromEntries(Object.entries(samples).map(([impl, xs]) => [impl, median(xs)]));
  }
  return { runtime, nodes: NODES, podsPerRun: PODS_PER_RUN, runs: RUNS, nsPerNode, calibrationNs: calibrate() };
}

// Deno entry point: print the measurement as JSON.
const g = globalThis as unknown as { Deno?: { version: { deno: string } } };
if (g.Deno !== undefined) {
  const m = await measure(`deno ${g.Deno.version.deno}`);
  console.log(JSON.stringify(m));
}
