/**
 * Interns taints to bit positions for the kernel's taint bitsets, one interner per effect class
 * (hard: NoSchedule + NoExecute; soft: PreferNoSchedule). Bits are reference counted and reused
 * once free; `version` changes whenever the bit ↔ taint mapping changes so per-pod tolerated-bit
 * memos can be invalidated. A taint that finds no free bit is "overflow": nodes carrying one are
 * checked in TypeScript by TaintToleration instead of through bits.
 */
import type { Taint, Toleration } from "../../api/generated/core_v1.ts";
import { toleratesTaint } from "../_nodematch.ts";

function taintId(t: Taint): string {
  return `${t.key ?? ""}\u0000${t.value ?? ""}\u0000${t.effect ?? ""}`;
}

export class TaintInterner {
  private readonly bits = new Map<string, number>();
  private readonly byBit: (Taint | undefined)[];
  private readonly refs: Int32Array;
  version = 0;
  constructor(readonly words: number) {
    this.byBit = new Array<Taint | undefined>(words * 32).fill(undefined);
    this.refs = new Int32Array(words * 32);
  }

  /** Acquires bits for the taints into `out` (zeroed first); returns false if any overflowed. */
  acquire(taints: readonly Taint[], out: Uint32Array): boolean {
    out.fill(0);
    let ok = true;
    for (const t of taints) {
      const id = taintId(t);
      let b = this.bits.get(id);
      if (b === undefined) {
        b = this.byBit.indexOf(undefined);
        if (b < 0) { ok = false; continue; }
        this.bits.set(id, b);
        this.byBit[b] = t;
        this.version++;
      }
      if (((out[b >>> 5] ?? 0) & (1 << (b & 31))) !== 0) continue;
      out[b >>> 5] = (out[b >>> 5] ?? 0) | (1 << (b & 31));
      this.refs[b] = (this.refs[b] ?? 0) + 1;
    }
    return ok;
  }

  /** Releases the bits set in `held` (as returned by `acquire`). */
  release(held: Uint32Array): void {
    for (let w = 0; w < held.length; w++) {
      let word = held[w] ?? 0;
      while (word !== 0) {
        const b = w * 32 + (31 - Math.clz32(word & -word));
        word &= word - 1;
        const r = (this.refs[b] ?? 0) - 1;
        this.refs[b] = r;
        if (r <= 0) {
          const t = this.byBit[b];
          if (t) this.bits.delete(taintId(t));
          this.byBit[b] = undefined;
          this.refs[b] = 0;
          this.version++;
        }
      }
    }
  }

  /** Bits of the interned taints that some toleration tolerates. */
  tolerated(tols: readonly Toleration[], out: Uint32Array): Uint32Array {
    out.fill(0);
    if (tols.length === 0) return out;
    for (let b = 0; b < this.byBit.length; b++) {
      const t = this.byBit[b];
      if (t && tols.some((tol) => toleratesTaint(tol, t))) out[b >>> 5] = (out[b >>> 5] ?? 0) | (1 << (b & 31));
    }
    return out;
  }
}
