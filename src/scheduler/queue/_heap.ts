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
  private swap(i: number, j: number): void {
    const a = this.items[i], b = this.items[j];
    if (a === undefined || b === undefined) return;
    this.items[i] = b; this.items[j] = a;
    this.pos.set(this.keyOf(b), i); this.pos.set(this.keyOf(a), j);
  }
  private up(i: number): boolean {
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const a = this.items[i], b = this.items[p];
      if (a === undefined || b === undefined || !this.less(a, b)) break;
      this.swap(i, p); i = p; moved = true;
    }
    return moved;
  }
  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      const at = (k: number): T | undefined => this.items[k];
      const lm = at(l), rm = at(r);
      if (l < n && lm !== undefined && this.less(lm, at(m) as T)) m = l;
      if (r < n && rm !== undefined && this.less(rm, at(m) as T)) m = r;
      if (m === i) return;
      this.swap(i, m); i = m;
    }
  }
}
