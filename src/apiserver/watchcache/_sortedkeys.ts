/**
 * The watch cache's keys in sorted order, as a list of sorted chunks (each at most `CHUNK` keys):
 * insert and delete move at most one chunk's keys instead of the whole array (a single sorted
 * array made every create and delete of a 50,000-object resource move ~400 KB), and ranges are
 * read in order from any key. Ranks (for remainingItemCount) cost O(chunks).
 */

/** Most keys in one chunk; a full chunk splits in two. */
const CHUNK = 512;

/** First index in sorted `arr` with arr[i] >= key. */
export function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeys {
  /** Non-empty sorted chunks; every key of chunk c is smaller than every key of chunk c + 1. */
  private chunks: string[][] = [];
  private count = 0;

  /** From keys already sorted and distinct. */
  static fromSorted(keys: readonly string[]): SortedKeys {
    const s = new SortedKeys();
    for (let i = 0; i < keys.length; i += CHUNK / 2) s.chunks.push(keys.slice(i, i + CHUNK / 2));
    s.count = keys.length;
    return s;
  }

  get size(): number { return this.count; }

  /** Adds `key`; false when it was there already. */
  insert(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count = 1;
      return true;
    }
    const c = this.chunkFor(key);
    const chunk = this.chunks[c] as string[];
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return false;
    chunk.splice(i, 0, key);
    this.count++;
    if (chunk.length > CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >>> 1));
    return true;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: string): boolean {
    if (this.chunks.length === 0) return false;
    const c = this.chunkFor(key);
    const chunk = this.chunks[c] as string[];
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  /** Number of keys smaller than `key`. */
  rank(key: string): number {
    if (this.chunks.length === 0) return 0;
    const c = this.chunkFor(key);
    let n = 0;
    for (let j = 0; j < c; j++) n += (this.chunks[j] as string[]).length;
    return n + lowerBound(this.chunks[c] as string[], key);
  }

  /** Calls `visit` with the keys in [from, to) in order, until it returns false. */
  scan(from: string, to: string, visit: (key: string) => boolean): void {
    if (this.chunks.length === 0) return;
    let c = this.chunkFor(from);
    let i = lowerBound(this.chunks[c] as string[], from);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] as string[];
      for (; i < chunk.length; i++) {
        const k = chunk[i] as string;
        if (k >= to || !visit(k)) return;
      }
    }
  }

  /** Every key in order (tests). */
  toArray(): string[] {
    return this.chunks.flat();
  }

  /** The chunk `key` belongs in: the first whose last key is >= key, else the last chunk. */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid] as string[];
      if ((chunk[chunk.length - 1] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
