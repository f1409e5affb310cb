/**
 * Best-node selection with the kernel's tie-breaking (reservoir sampling over equal top scores
 * driven by xorshift32 seeded through murmur3's finalizer). Used when scores from plugins outside
 * the kernel are added after the kernel call; it must pick exactly what the kernel would for the
 * same scores and seed (tested against the kernel in select.test.ts).
 */
export function selectBest(status: Int32Array, scores: Int32Array, n: number, seed: number): number {
  let best = -1, max = 0;
  for (let i = 0; i < n; i++) {
    if (status[i] !== 0) continue;
    const s = scores[i] ?? 0;
    if (best < 0 || s > max) { max = s; best = i; }
  }
  if (best < 0) return -1;
  let x = seed | 0;
  x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b); x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35); x ^= x >>> 16;
  if (x === 0) x = 0x9e3779b9 | 0;
  let ties = 1;
  for (let i = best + 1; i < n; i++) {
    if (status[i] !== 0 || scores[i] !== max) continue;
    ties++;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    if ((x >>> 0) * ties < 4294967296) best = i;
  }
  return best;
}
