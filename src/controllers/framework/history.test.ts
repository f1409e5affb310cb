import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { controllerRevisionName, equalRevision, hashRevision, newRevision, nextRevisionNumber, revisionData, sortRevisions, templateOfRevision, type ControllerRevisionLike } from "./history.ts";
import { RecordingWriter } from "./recording.ts";
import { CONTROLLERREVISIONS } from "./resources.ts";
import { ensureUpdateRevision, truncateHistory } from "./revisions.ts";

const owner: KubeObject = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "web", namespace: "default", uid: "u1" } };
const tpl = (image: string): { metadata: { labels: Record<string, string> }; spec: unknown } => ({ metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image }] } });

describe("controller history (pure)", () => {
  it("revision data wraps the template with $patch: replace and round-trips", () => {
    const d = revisionData(tpl("a"));
    expect(d).toEqual({ spec: { template: { ...tpl("a"), $patch: "replace" } } });
    expect(templateOfRevision({ data: d })).toEqual(tpl("a"));
    expect(templateOfRevision({ data: "junk" })).toBeUndefined();
  });

  it("hashes are stable, differ by template and by collision count", () => {
    const a = hashRevision(revisionData(tpl("a")), undefined);
    expect(hashRevision(revisionData(tpl("a")), undefined)).toBe(a);
    expect(hashRevision(revisionData(tpl("a")), 0)).toBe(a);
    expect(hashRevision(revisionData(tpl("b")), undefined)).not.toBe(a);
    expect(hashRevision(revisionData(tpl("a")), 1)).not.toBe(a);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });

  it("names, numbering, ordering, equality", () => {
    expect(controllerRevisionName("web", "abc")).toBe("web-abc");
    expect(controllerRevisionName("x".repeat(300), "h")).toHaveLength(225);
    const r1 = newRevision(owner, "StatefulSet", tpl("a"), 1, undefined, { app: "web" });
    const r2 = newRevision(owner, "StatefulSet", tpl("b"), 2, undefined);
    expect(r1.metadata.labels).toMatchObject({ app: "web", "controller-revision-hash": expect.any(String) as unknown as string });
    expect(r1.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", uid: "u1", controller: true });
    expect(nextRevisionNumber([r2, r1])).toBe(3);
    expect(nextRevisionNumber([])).toBe(1);
    expect(sortRevisions([r2, r1]).map((r) => r.revision)).toEqual([1, 2]);
    expect(equalRevision(r1, newRevision(owner, "StatefulSet", tpl("a"), 9, 3))).toBe(true);
    expect(equalRevision(r1, r2)).toBe(false);
  });
});

describe("ensureUpdateRevision", () => {
  it("creates revision 1, reuses it, creates 2 for a new template, renumbers 1 on rollback", async () => {
    const w = new RecordingWriter();
    const a = await ensureUpdateRevision(w, owner, "StatefulSet", tpl("a"), [], undefined);
    expect(a.revision.revision).toBe(1);
    expect((await ensureUpdateRevision(w, owner, "StatefulSet", tpl("a"), [a.revision], undefined)).revision).toBe(a.revision);
    const b = await ensureUpdateRevision(w, owner, "StatefulSet", tpl("b"), [a.revision], undefined);
    expect(b.revision.revision).toBe(2);
    const back = await ensureUpdateRevision(w, owner, "StatefulSet", tpl("a"), [a.revision, b.revision], undefined);
    expect(back.revision.metadata?.name).toBe(a.revision.metadata?.name);
    expect(back.revision.revision).toBe(3);
    expect(w.summary()).toEqual([`create controllerrevisions default/${a.revision.metadata?.name ?? ""}`, `create controllerrevisions default/${b.revision.metadata?.name ?? ""}`, `patch controllerrevisions default/${a.revision.metadata?.name ?? ""}`]);
  });

  it("a revision created but not yet cached is found by a live read; a foreign one bumps the collision count", async () => {
    const w = new RecordingWriter();
    const mine = newRevision(owner, "StatefulSet", tpl("a"), 1, undefined);
    w.seed(CONTROLLERREVISIONS, mine);
    expect((await ensureUpdateRevision(w, owner, "StatefulSet", tpl("a"), [], undefined)).collisionCount).toBeUndefined();
    const w2 = new RecordingWriter();
    const foreign: ControllerRevisionLike = { ...newRevision(owner, "StatefulSet", tpl("a"), 1, undefined), data: { other: true } };
    w2.seed(CONTROLLERREVISIONS, foreign);
    const r = await ensureUpdateRevision(w2, owner, "StatefulSet", tpl("a"), [], undefined);
    expect(r.collisionCount).toBe(1);
    expect(r.revision.metadata?.name).not.toBe(foreign.metadata?.name);
  });

  it("truncateHistory deletes the oldest unused revisions beyond the limit", async () => {
    const w = new RecordingWriter();
    const revs = [1, 2, 3, 4].map((i) => newRevision(owner, "StatefulSet", tpl(`i${i}`), i, undefined));
    await truncateHistory(w, "default", revs, new Set([revs[3]!.metadata.name, revs[0]!.metadata.name]), 1);
    expect(w.summary()).toEqual([`delete controllerrevisions default/${revs[1]!.metadata.name}`]);
  });
});
