/**
 * Kernel choice for the running scheduler: WASM SIMD by default, falling back (with a logged
 * notice) to WASM scalar and then to the TypeScript twin when a build cannot load (no SIMD in the
 * engine, `npm run asbuild` never ran). A forced choice does not fall back: it fails.
 */
import { createKernel, createTwinKernel, type Kernel, type KernelOptions } from "../kernel/mod.ts";

export const KERNEL_CHOICES = ["auto", "wasm-simd", "wasm-scalar", "ts"] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

export function isKernelChoice(s: string): s is KernelChoice {
  return (KERNEL_CHOICES as readonly string[]).includes(s);
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Loads the kernel. `auto`: SIMD → scalar → twin, calling `log` for each fallback. A forced WASM
 * choice rejects with an `Error` naming the variant and the cause.
 */
export async function loadKernel(choice: KernelChoice, log: (m: string) => void, opts: KernelOptions = {}): Promise<Kernel> {
  if (choice === "ts") return createTwinKernel(opts);
  if (choice !== "auto") {
    try {
      return await createKernel({ ...opts, simd: choice === "wasm-simd" });
    } catch (e) {
      throw new Error(`cannot load the ${choice} scheduler kernel: ${why(e)}`, { cause: e });
    }
  }
  try {
    return await createKernel({ ...opts, simd: true });
  } catch (e) {
    log(`notice: WASM SIMD kernel unavailable (${why(e)}); trying WASM scalar`);
  }
  try {
    return await createKernel({ ...opts, simd: false });
  } catch (e) {
    log(`notice: WASM scalar kernel unavailable (${why(e)}); using the TypeScript twin (slower)`);
  }
  return createTwinKernel(opts);
}
