/**
 * An ordered set of items keyed by a string `key`, for range scans: a list of sorted chunks (a flat B+tree of height
 * two). Lookups binary-search the chunk boundaries, then the chunk: O(log n). Inserts and deletes
 * splice one chunk of at most `MAX_CHUNK` keys, and split or drop a chunk in the chunk list of
 * n / MAX_CHUNK entries, so with 155k keys every change moves at most ~1,000 pointers.
 *
 * Keys compare by UTF-16 code unit order (JavaScript's `<`), which is byte order for ASCII.
 */

const MAX_CHUNK = 512;

/** Anything with a string key. */
export interface Keyed {
  readonly key: string;
}

export class KeyIndex<T extends Keyed = Keyed> {
  /** Non-empty sorted chunks; chunk i's keys all sort before chunk i+1's. */
  private chunks: T[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `item`; returns false if an item with its key was already present (it is kept). */
  insert(item: T): boolean {
    const key = item.key;
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push([item]);
      this.count = 1;
      return true;
    }
    const ci = this.chunkFor(key);
    const chunk = chunks[ci] as T[];
    const i = lowerBound(chunk, key);
    if (chunk[i]?.key === key) return false;
    chunk.splice(i, 0, item);
    this.count++;
    if (chunk.length > MAX_CHUNK) {
      const tail = chunk.splice(MAX_CHUNK >> 1);
      chunks.splice(ci + 1, 0, tail);
    }
    return true;
  }

  /** Adds `item`, or replaces the item with its key in place; returns true when it was added. */
  upsert(item: T): boolean {
    if (this.chunks.length > 0) {
      const chunk = this.chunks[this.chunkFor(item.key)] as T[];
      const i = lowerBound(chunk, item.key);
      if (chunk[i]?.key === item.key) {
        chunk[i] = item;
        return false;
      }
    }
    return this.insert(item);
  }

  /** Number of items with a key smaller than `key` (O(chunks)). */
  rank(key: string): number {
    const chunks = this.chunks;
    if (chunks.length === 0) return 0;
    const ci = this.chunkFor(key);
    let n = 0;
    for (let c = 0; c < ci; c++) n += (chunks[c] as T[]).length;
    return n + lowerBound(chunks[ci] as T[], key);
  }

  /** Removes the item with `key`; returns false if it was absent. */
  delete(key: string): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci] as T[];
    const i = lowerBound(chunk, key);
    if (chunk[i]?.key !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  get(key: string): T | undefined {
    if (this.chunks.length === 0) return undefined;
    const chunk = this.chunks[this.chunkFor(key)] as T[];
    const item = chunk[lowerBound(chunk, key)];
    return item?.key === key ? item : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Calls `fn` for each item with a key in `[from, end)`, in key order (`end` undefined: no upper
   * bound), until it returns false. The index must not be modified during the scan.
   */
  scan(from: string, end: string | undefined, fn: (item: T) => boolean): void {
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    let ci = this.chunkFor(from);
    let i = lowerBound(chunks[ci] as T[], from);
    for (; ci < chunks.length; ci++, i = 0) {
      const chunk = chunks[ci] as T[];
      for (; i < chunk.length; i++) {
        const item = chunk[i] as T;
        if (end !== undefined && item.key >= end) return;
        if (!fn(item)) return;
      }
    }
  }

  /** Index of the chunk that holds `key` or would receive it (the last chunk whose first key <= key). */
  private chunkFor(key: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (((chunks[mid] as T[])[0] as T).key <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** First index whose element's key is >= key. */
function lowerBound(arr: readonly Keyed[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] as Keyed).key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
