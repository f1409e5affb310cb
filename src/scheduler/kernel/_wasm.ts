/**
 * Loads build/wasm/scheduler{,.scalar}.wasm in a runtime-neutral way (`node:fs/promises` works on
 * Node and Deno) and wraps its exported memory as a `Backing`.
 */
import type { Backing } from "./_state.ts";

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no WebAssembly typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ readonly exports: Record<string, unknown> }>;
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
}
// Escape hatch: WebAssembly is a global on Node and Deno, but our lib settings do not declare it.
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface SchedulerExports {
  readonly memory: WasmMemory;
  filterAndScore(n: number): number;
}

const modules = new Map<string, Promise<object>>();

/** URL of the built kernel (`simd` selects scheduler.wasm, else scheduler.scalar.wasm). */
export function wasmUrl(simd: boolean): URL {
  return new URL(`../../../build/wasm/${simd ? "scheduler.wasm" : "scheduler.scalar.wasm"}`, import.meta.url);
}

async function compile(simd: boolean): Promise<object> {
  const url = wasmUrl(simd);
  const { readFile } = await import("node:fs/promises");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(url);
  } catch (e) {
    throw new Error(`scheduler kernel not built: cannot read ${url.pathname} (run \`npm run asbuild\`)`, { cause: e });
  }
  return WA.compile(bytes);
}

/** Instantiates a fresh kernel instance (modules are compiled once per process and variant). */
export async function instantiate(simd: boolean): Promise<SchedulerExports> {
  const key = simd ? "simd" : "scalar";
  let mod = modules.get(key);
  if (!mod) {
    mod = compile(simd);
    modules.set(key, mod);
    mod.catch(() => modules.delete(key));
  }
  const inst = await WA.instantiate(await mod, {});
  const ex = inst.exports;
  const memory = ex["memory"];
  const fn = ex["filterAndScore"];
  if (!(memory instanceof WA.Memory) || typeof fn !== "function") {
    throw new Error("scheduler kernel: unexpected exports (want memory, filterAndScore)");
  }
  // The export is a WebAssembly function; its type is known from wasm/scheduler.ts.
  const filterAndScore = fn as (n: number) => number;
  return { memory, filterAndScore };
}

/** A backing over WASM memory: grows by whole 64 KiB pages; the buffer is replaced on growth. */
export function memoryBacking(memory: WasmMemory): Backing {
  return {
    buffer: () => memory.buffer,
    ensure(bytes) {
      const have = memory.buffer.byteLength;
      if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
      return memory.buffer;
    },
  };
}
