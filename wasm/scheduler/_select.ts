// Best-node selection for the scheduler kernel, shared by the scalar and SIMD builds.
//
// Reservoir sampling over the nodes holding the maximum, in index order: a node above the current
// top restarts the reservoir (and the random sequence), a node equal to it is tie k and replaces
// the choice when x·k < 2^32. The state after the last restart is exactly what a separate
// "find the max, then scan its ties" pass computes, so results match selectBest in the twin.

export let selBest: i32 = -1;
export let selTop: i32 = 0;
let selTies: u32 = 0;
let selX: u32 = 0;
let selX0: u32 = 0;

/** Starts a selection for `seed` (murmur3's finalizer spreads small seeds before xorshift32). */
export function selectStart(seed: i32): void {
  let x: u32 = <u32>seed;
  x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13; x *= 0xc2b2ae35; x ^= x >> 16;
  if (x == 0) x = 0x9e3779b9;
  selX0 = x;
  selX = x;
  selBest = -1;
  selTop = i32.MIN_VALUE;
  selTies = 0;
}

/** Offers feasible node `i` with final score `s` to the selection. */
@inline export function selectOffer(i: i32, s: i32): void {
  if (selBest < 0 || s > selTop) {
    selTop = s; selBest = i; selTies = 1; selX = selX0;
  } else if (s == selTop) {
    selTies++;
    let x = selX;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    selX = x;
    if (<u64>x * <u64>selTies < 0x100000000) selBest = i;
  }
}
