import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { EventBroadcaster } from "../../client/events/mod.ts";
import { controllerEventRecorder, FakeRecorder, writerEventSink } from "./events.ts";
import { RecordingWriter } from "./recording.ts";

const rs: KubeObject = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-1", namespace: "default", uid: "u1", resourceVersion: "7" } };
const T = Date.parse("2024-01-01T00:00:00Z");

describe("controllerEventRecorder (the shared event library through the ObjectWriter)", () => {
  it("creates an Event about the object with the controller as source, then patches its count", async () => {
    const w = new RecordingWriter();
    const b = new EventBroadcaster({ sink: writerEventSink(w), clock: () => T });
    const rec = controllerEventRecorder(b, "replicaset-controller");
    rec.event(rs, "Normal", "SuccessfulCreate", "Created pod: web-1-x");
    await b.flush();
    rec.event(rs, "Normal", "SuccessfulCreate", "Created pod: web-1-x");
    await b.flush();
    expect(w.summary().map((s) => s.replace(/\.[0-9a-f]+$/, ".<id>"))).toEqual(["create events default/web-1.<id>", "patch events default/web-1.<id>"]);
    const created = w.writes("create", "events")[0]!.object;
    expect(created).toMatchObject({
      apiVersion: "v1", kind: "Event", metadata: { namespace: "default" },
      involvedObject: { kind: "ReplicaSet", namespace: "default", name: "web-1", uid: "u1", apiVersion: "apps/v1" },
      reason: "SuccessfulCreate", message: "Created pod: web-1-x", type: "Normal", source: { component: "replicaset-controller" },
      count: 1, firstTimestamp: "2024-01-01T00:00:00Z",
    });
    expect(b.stats).toMatchObject({ created: 1, patched: 1 });
  });

  it("a failing write is counted and never reaches the controller", async () => {
    const w = new RecordingWriter();
    w.reactors.push(() => new Error("apiserver down"));
    const b = new EventBroadcaster({ sink: writerEventSink(w), queue: { maxAttempts: 1 } });
    const rec = controllerEventRecorder(b, "c");
    expect(() => rec.event(rs, "Warning", "FailedCreate", "boom")).not.toThrow();
    await b.flush();
    expect(b.stats.failed).toBe(1);
  });

  it("FakeRecorder collects upstream-style lines", () => {
    const f = new FakeRecorder();
    f.event(rs, "Warning", "FailedCreate", "boom");
    expect(f.events).toEqual(["Warning FailedCreate boom"]);
    expect(f.objects[0]).toBe(rs);
  });
});
