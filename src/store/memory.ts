/**
 * The in-memory Store: the MVCC engine with no disk. Writes are visible and "durable" as soon as
 * they are applied; watchers get live events synchronously from the commit path, and replays of
 * past revisions on a microtask after `watch()` returns.
 */
import { MvccEngine } from "./mvcc/mvcc.ts";
import { WatchHub } from "./mvcc/watchhub.ts";
import { ErrClosed, type KeySelector, type RangeOptions, type RangeResult, type Store, type Txn, type TxnResult, type Watch, type WatchHandlers, type WatchOptions } from "./types.ts";

/** A fresh, empty store at revision 1. */
export function createMemoryStore(): Store {
  return new MemoryStore(new MvccEngine());
}

/** A store over an existing engine (tests, or a backend that rebuilt one). */
export function memoryStoreFromEngine(engine: MvccEngine): Store {
  return new MemoryStore(engine);
}

class MemoryStore implements Store {
  private readonly hub: WatchHub;
  private closed = false;

  constructor(private readonly engine: MvccEngine) {
    this.hub = new WatchHub(engine);
  }

  range(opts: RangeOptions): Promise<RangeResult> {
    try {
      if (this.closed) throw ErrClosed();
      return Promise.resolve(this.engine.range(opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  txn(t: Txn): Promise<TxnResult> {
    try {
      if (this.closed) throw ErrClosed();
      const out = this.engine.txn(t);
      if (out.written) this.hub.deliver(this.engine.revision);
      return Promise.resolve(out.result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    return (await this.txn({ success: [{ type: "put", key, value }] })).revision;
  }

  async delete(sel: KeySelector): Promise<{ deleted: number; revision: number }> {
    const r = await this.txn({ success: [{ type: "delete", ...sel }] });
    const first = r.results[0];
    return { deleted: first?.type === "delete" ? first.deleted : 0, revision: r.revision };
  }

  watch(opts: WatchOptions, handlers: WatchHandlers): Watch {
    if (this.closed) {
      queueMicrotask(() => handlers.onError(ErrClosed()));
      return { cancel: () => {} };
    }
    const w = this.hub.add(opts, handlers, this.engine.revision);
    queueMicrotask(() => {
      if (!this.closed) this.hub.deliver(this.engine.revision);
    });
    return w;
  }

  compact(revision: number): Promise<void> {
    try {
      if (this.closed) throw ErrClosed();
      this.engine.compact(revision);
      // Watchers still behind the new compacted revision learn it now.
      this.hub.deliver(this.engine.revision);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  currentRevision(): number {
    return this.engine.revision;
  }

  compactedRevision(): number {
    return this.engine.compacted;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.hub.failAll(ErrClosed());
    }
    return Promise.resolve();
  }
}
