import { describe, expect, it } from "vitest";
import type { Job } from "../../api/generated/batch_v1.ts";
import type { KubeObject } from "../../api/object.ts";
import { JOBS } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { expiresAt, TtlAfterFinishedController } from "./controller.ts";

function job(ttl: number | undefined, cond?: string, extra: { deleting?: boolean } = {}): Job {
  return {
    apiVersion: "batch/v1", kind: "Job",
    metadata: { name: "j", namespace: "default", uid: "u1", resourceVersion: "7", ...(extra.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}) },
    spec: { ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
    status: cond ? { conditions: [{ type: cond, status: "True", lastTransitionTime: "2024-01-01T00:00:00Z" }] } : {},
  } as Job;
}

const T = Date.parse("2024-01-01T00:00:00Z");

describe("ttl after finished", () => {
  it.each([
    ["no ttl", job(undefined, "Complete"), undefined],
    ["running", job(10), undefined],
    ["complete", job(10, "Complete"), T + 10_000],
    ["failed, ttl 0", job(0, "Failed"), T],
    ["being deleted", job(10, "Complete", { deleting: true }), undefined],
  ])("expiresAt: %s", (_n, j, want) => {
    expect(expiresAt(j)).toBe(want);
  });

  it("requeues until expiry, then deletes with Foreground and preconditions after a live read", async () => {
    const k = fakeKit("2024-01-01T00:00:04Z");
    const c = new TtlAfterFinishedController(k.ctx, k.queue);
    const j = job(10, "Complete") as KubeObject;
    k.informers.add(JOBS, j);
    k.writer.seed(JOBS, j);
    expect(k.queue.keys).toEqual(["default/j"]);
    expect(await c.sync("default/j")).toEqual({ requeueAfterMs: 6000 });
    k.setNow("2024-01-01T00:00:10Z");
    await c.sync("default/j");
    expect(k.writer.calls.map((x) => x.verb)).toEqual(["get", "delete"]);
    expect(k.writer.calls[1]?.options).toEqual({ propagationPolicy: "Foreground", preconditions: { uid: "u1", resourceVersion: "7" } });
  });

  it("does not delete when the live Job's TTL was raised", async () => {
    const k = fakeKit("2024-01-01T00:00:10Z");
    const c = new TtlAfterFinishedController(k.ctx, k.queue);
    k.informers.seed(JOBS, job(10, "Complete") as KubeObject);
    k.writer.seed(JOBS, job(60, "Complete") as KubeObject);
    expect(await c.sync("default/j")).toEqual({ requeueAfterMs: 50_000 });
    expect(k.writer.summary()).toEqual([]);
  });
});
