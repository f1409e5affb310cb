/**
 * Test kit for controllers: a `ControllerContext` whose caches are `FakeInformers`, whose writes
 * go to a `RecordingWriter` and whose events to a `FakeRecorder`, with a fixed clock.
 */
import type { KubeObject } from "../../api/object.ts";
import type { ControllerContext } from "./controller.ts";
import { RecordingQueue } from "./controller.ts";
import { FakeRecorder } from "./events.ts";
import { FakeInformers } from "./informers.ts";
import { RecordingWriter } from "./recording.ts";

export interface FakeKit {
  readonly ctx: ControllerContext;
  readonly informers: FakeInformers;
  readonly writer: RecordingWriter;
  readonly recorder: FakeRecorder;
  readonly queue: RecordingQueue;
  readonly logs: string[];
  /** Moves the fixed clock. */
  setNow(iso: string): void;
}

export const T0 = "2024-01-01T00:00:00Z";

export function fakeKit(now = T0): FakeKit {
  let clock = new Date(now);
  const informers = new FakeInformers();
  const writer = new RecordingWriter();
  const recorder = new FakeRecorder();
  const logs: string[] = [];
  const ctx: ControllerContext = { informers, writer, recorder, now: () => clock, log: (m) => logs.push(m) };
  return { ctx, informers, writer, recorder, queue: new RecordingQueue(), logs, setNow: (iso) => { clock = new Date(iso); } };
}

/** A pod fixture. */
export function pod(name: string, opts: {
  ns?: string; labels?: Record<string, string>; owner?: KubeObject; ownerKind?: string; phase?: string; ready?: boolean;
  readySince?: string; node?: string; created?: string; deleting?: boolean; uid?: string;
} = {}): KubeObject {
  const ns = opts.ns ?? "default";
  const owner = opts.owner;
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: {
      name, namespace: ns, uid: opts.uid ?? `uid-pod-${name}`, resourceVersion: "1",
      creationTimestamp: opts.created ?? T0,
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(owner ? { ownerReferences: [{ apiVersion: owner.apiVersion ?? "apps/v1", kind: opts.ownerKind ?? owner.kind ?? "ReplicaSet", name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }] } : {}),
      ...(opts.deleting ? { deletionTimestamp: T0 } : {}),
    },
    spec: { containers: [{ name: "c", image: "nginx" }], ...(opts.node ? { nodeName: opts.node } : {}) },
    status: {
      phase: opts.phase ?? "Pending",
      ...(opts.ready !== undefined ? { conditions: [{ type: "Ready", status: opts.ready ? "True" : "False", lastTransitionTime: opts.readySince ?? T0 }] } : {}),
    },
  };
}
