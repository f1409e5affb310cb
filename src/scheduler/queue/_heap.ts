/** A binary heap keyed by string with O(log n) push/pop/remove/update (private to the queue). */
export class KeyedHeap<T> {
  private readonly items: T[] = [];
  private readonly pos = new Map<string, number>();
  constructor(private readonly keyOf: (x: T) => string, private readonly less: (a: T, b: T) => boolean) {}
  get size(): number { return this.items.length; }
  has(key: string): boolean { return this.pos.has(key); }
  get(key: string): T | undefined { const i = this.pos.get(key); return i === undefined ? undefined : this.items[i]; }
  peek(): T | undefined { return this.items[0]; }
  values(): readonly T[] { return this.items; }
  /** Inserts or replaces (by key). */
  push(x: T): void {
    const k = this.keyOf(x);
    const i = this.pos.get(k);
    if (i !== undefined) { this.items[i] = x; this.fix(i); return; }
    this.items.push(x);
    this.pos.set(k, this.items.length - 1);
    this.up(this.items.length - 1);
  }
  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }
  remove(key: string): T | undefined {
    const i = this.pos.get(key);
    if (i === undefined) return undefined;
    const x = this.items[i];
    this.removeAt(i);
    return x;
  }
  private removeAt(i: number): void {
    const last = this.items.length - 1;
    const x = this.items[i];
    if (x !== undefined) this.pos.delete(this.keyOf(x));
    if (i !== last) {
      const y = this.items[last];
      if (y === undefined) throw new Error("heap corrupt");
      this.items[i] = y;
      this.pos.set(this.keyOf(y), i);
      this.items.pop();
      this.fix(i);
    } else this.items.pop();
  }
  private fix(i: number): void { if (!this.up(i)) this.down(i); }
  // Sifts move the item being placed and write each displaced one once (no swaps, no closures:
  // these run for every pop of the active queue).
  private up(i: number): boolean {
    const items = this.items;
    const x = items[i];
    if (x === undefined) return false;
    const start = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const y = items[p] as T; // 0 <= p < i < length
      if (!this.less(x, y)) break;
      items[i] = y;
      this.pos.set(this.keyOf(y), i);
      i = p;
    }
    if (i === start) return false;
    items[i] = x;
    this.pos.set(this.keyOf(x), i);
    return true;
  }
  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[i];
    if (x === undefined) return;
    const start = i;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      let best = items[l] as T; // l < n
      if (r < n) { const rv = items[r] as T; if (this.less(rv, best)) { m = r; best = rv; } } // r < n
      if (!this.less(best, x)) break;
      items[i] = best;
      this.pos.set(this.keyOf(best), i);
      i = m;
    }
    if (i === start) return;
    items[i] = x;
    this.pos.set(this.keyOf(x), i);
  }
}
