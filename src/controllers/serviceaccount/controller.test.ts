import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../api/object.ts";
import { alreadyExists } from "../../api/errors.ts";
import { NAMESPACES, SERVICEACCOUNTS } from "../framework/resources.ts";
import { fakeKit } from "../framework/testing.ts";
import { ServiceAccountController } from "./controller.ts";

const ns = (name: string, phase = "Active"): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, uid: `uid-${name}` }, status: { phase } });

describe("serviceaccount controller", () => {
  it.each([
    ["creates default in a new namespace", ns("a"), [], ["create serviceaccounts a/default"]],
    ["nothing when it exists", ns("a"), [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "a" } }], []],
    ["nothing in a terminating namespace", ns("a", "Terminating"), [], []],
  ] as const)("%s", async (_n, namespace, sas, want) => {
    const k = fakeKit();
    const c = new ServiceAccountController(k.ctx, k.queue);
    k.informers.seed(NAMESPACES, namespace);
    for (const sa of sas) k.informers.seed(SERVICEACCOUNTS, sa);
    await c.sync("a");
    expect(k.writer.summary()).toEqual(want);
  });

  it("re-creates a deleted default account; AlreadyExists is fine", async () => {
    const k = fakeKit();
    const c = new ServiceAccountController(k.ctx, k.queue);
    const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "a" } };
    k.informers.seed(NAMESPACES, ns("a")).seed(SERVICEACCOUNTS, sa);
    k.informers.remove(SERVICEACCOUNTS, sa);
    expect(k.queue.keys).toEqual(["a"]);
    k.writer.reactors.push(() => alreadyExists("", "serviceaccounts", "default"));
    await expect(c.sync("a")).resolves.toBeUndefined();
  });
});
