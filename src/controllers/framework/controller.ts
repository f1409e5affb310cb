/**
 * The controller contract. A controller is built from a `ControllerContext` and a `Queue`; in its
 * constructor it registers informer handlers that do nothing but enqueue keys. The runner calls
 * `sync(key)` from N workers (never concurrently for one key); `sync` reads informer caches,
 * computes the desired state with pure functions and writes through `ctx.writer`. Throwing
 * requeues the key with per-item exponential backoff; returning `{ requeueAfterMs }` re-checks it
 * later (deadlines, minReadySeconds).
 */
import type { KubeObject } from "../../api/object.ts";
import type { Client } from "../../client/client.ts";
import { keyOf } from "../../client/indexer.ts";
import type { EventRecorder } from "./events.ts";
import type { InformerSource } from "./informers.ts";
import type { ObjectWriter } from "./writer.ts";

export interface SyncResult {
  /** Sync the key again after this long (the work queue's `addAfter`). */
  readonly requeueAfterMs?: number;
}

export interface Controller {
  readonly name: string;
  sync(key: string): Promise<SyncResult | void>;
}

/** What a controller may enqueue into: its own queue. */
export interface Queue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
}

export interface ControllerContext {
  readonly informers: InformerSource;
  readonly writer: ObjectWriter;
  readonly recorder: EventRecorder;
  /** Wall clock (injectable for tests). */
  now(): Date;
  log(message: string): void;
  /**
   * The apiserver client, for controllers that reach resources outside the built-in registry
   * (discovery, custom resources). Absent in unit tests over `FakeInformers`.
   */
  readonly client?: Client;
  /**
   * Aborted when this controller's term ends (leadership lost or the manager stopped): stops what
   * a controller started itself (e.g. informers of discovered resources).
   */
  readonly signal?: AbortSignal;
}

export type ControllerFactory = (ctx: ControllerContext, queue: Queue) => Controller;

/** Enqueues the object's key (`namespace/name`). */
export function enqueueObject(queue: Queue, obj: KubeObject): void {
  queue.add(keyOf(obj));
}

/** Test queue: collects keys. */
export class RecordingQueue implements Queue {
  readonly keys: string[] = [];
  readonly delayed: Array<{ key: string; ms: number }> = [];
  add(key: string): void {
    if (!this.keys.includes(key)) this.keys.push(key);
  }
  addAfter(key: string, ms: number): void {
    this.delayed.push({ key, ms });
  }
  clear(): void {
    this.keys.length = 0;
    this.delayed.length = 0;
  }
}
