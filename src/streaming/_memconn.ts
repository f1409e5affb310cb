/**
 * An in-memory `UpgradedConnection` pair for tests: what the client side writes, the server side
 * reads, and back. No sockets.
 */
import type { UpgradedConnection } from "../transport/types.ts";
import { AsyncQueue, concatBytes } from "./_queue.ts";

export interface MemoryClient {
  /** Bytes to the server. */
  write(chunk: Uint8Array): void;
  /** Half-closes client->server (the server's readable ends). */
  end(): void;
  /** Bytes from the server; ends when the server closes. */
  readonly readable: AsyncQueue<Uint8Array>;
  /** Resolves with the next `n` bytes from the server (or what arrived before the end). */
  read(n: number, timeoutMs?: number): Promise<Uint8Array>;
  /** True once the server called close(). */
  readonly serverClosed: boolean;
}

export function memoryConnection(head: Uint8Array = new Uint8Array(0)): { server: UpgradedConnection; client: MemoryClient } {
  const c2s = new AsyncQueue<Uint8Array>(1_000_000);
  const s2c = new AsyncQueue<Uint8Array>(1_000_000);
  const abort = new AbortController();
  let serverClosed = false;
  let clientEnded = false;
  const maybeAbort = (): void => {
    if (serverClosed && clientEnded) abort.abort(new Error("closed"));
  };
  const server: UpgradedConnection = {
    head,
    readable: c2s,
    signal: abort.signal,
    write(chunk: Uint8Array): Promise<void> {
      if (serverClosed) return Promise.reject(new Error("connection closed"));
      s2c.push(chunk.slice());
      return Promise.resolve();
    },
    close(): void {
      if (serverClosed) return;
      serverClosed = true;
      s2c.end();
      maybeAbort();
    },
  };
  let pending: Uint8Array = new Uint8Array(0);
  const client: MemoryClient = {
    write(chunk) {
      c2s.push(chunk.slice());
    },
    end() {
      clientEnded = true;
      c2s.end();
      maybeAbort();
    },
    readable: s2c,
    async read(n, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (pending.byteLength < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out reading ${n} bytes (have ${pending.byteLength})`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const r = await Promise.race([
          s2c.next(),
          new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
        ]);
        clearTimeout(timer);
        if (r === "timeout") throw new Error(`timed out reading ${n} bytes (have ${pending.byteLength})`);
        if (r.done) break;
        pending = concatBytes([pending, r.value]);
      }
      const out = pending.subarray(0, Math.min(n, pending.byteLength));
      pending = pending.subarray(out.byteLength);
      return out;
    },
    get serverClosed() {
      return serverClosed;
    },
  };
  return { server, client };
}
