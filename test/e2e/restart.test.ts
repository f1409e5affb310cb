/**
 * Durability through the whole stack: objects and their resourceVersions survive a clean stop
 * (SIGTERM) and a crash (SIGKILL) of `tug server` on the same data dir.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { H2Client } from "./h2client.ts";
import { startTug, tempDir, type TugProcess } from "./harness.ts";

const running: TugProcess[] = [];
afterAll(async () => {
  for (const t of running) await t.stop("SIGKILL");
});

async function start(dataDir: string): Promise<{ tug: TugProcess; api: H2Client }> {
  const tug = await startTug({ dataDir });
  running.push(tug);
  return { tug, api: new H2Client(tug.url, { ca: tug.caPem, cert: tug.certPem, key: tug.keyPem }) };
}

type Snapshot = Record<string, { rv: string; uid: string; data: unknown }>;

async function snapshot(api: H2Client, ns: string): Promise<Snapshot> {
  const r = await api.json("GET", `/api/v1/namespaces/${ns}/configmaps`);
  expect(r.status).toBe(200);
  const items = (r.body as { items: Array<{ metadata: { name: string; resourceVersion: string; uid: string }; data: unknown }> }).items;
  return Object.fromEntries(items.map((i) => [i.metadata.name, { rv: i.metadata.resourceVersion, uid: i.metadata.uid, data: i.data }]));
}

async function populate(api: H2Client, ns: string, count: number): Promise<void> {
  expect((await api.json("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  const results = await Promise.all(Array.from({ length: count }, (_, i) =>
    api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: `cm-${i}` }, data: { i: String(i) } })));
  expect(results.map((r) => r.status)).toEqual(Array(count).fill(201));
  // updates and a delete, so revisions are not just the create ones
  expect((await api.json("PUT", `/api/v1/namespaces/${ns}/configmaps/cm-0`, { metadata: { name: "cm-0" }, data: { i: "updated" } })).status).toBe(200);
  expect((await api.json("DELETE", `/api/v1/namespaces/${ns}/configmaps/cm-1`)).status).toBe(200);
}

describe.each(["SIGTERM", "SIGKILL"] as const)("restart after %s", (signal) => {
  it("keeps objects, resourceVersions and credentials", async () => {
    const dataDir = tempDir(`restart-${signal}`);
    const ns = `restart-${signal.toLowerCase()}`;
    const first = await start(dataDir);
    await populate(first.api, ns, 40);
    const before = await snapshot(first.api, ns);
    expect(Object.keys(before)).toHaveLength(39);
    expect(before["cm-0"]?.data).toEqual({ i: "updated" });
    const tokens = readFileSync(join(dataDir, "tokens.csv"), "utf8");
    const ca = first.tug.caPem;
    first.api.close();
    const exit = await first.tug.stop(signal);
    if (signal === "SIGTERM") {
      expect(exit).toEqual({ code: 0, signal: null });
      expect(first.tug.stderr()).toContain("SIGTERM received, shutting down");
    } else {
      expect(exit.signal).toBe("SIGKILL");
    }

    const second = await start(dataDir);
    expect(second.tug.caPem).toBe(ca);
    expect(readFileSync(join(dataDir, "tokens.csv"), "utf8")).toBe(tokens);
    const after = await snapshot(second.api, ns);
    expect(after).toEqual(before);
    // new writes continue above the old revisions
    const r = await second.api.json("POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "later" } });
    expect(r.status).toBe(201);
    const rv = Number((r.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    expect(rv).toBeGreaterThan(Math.max(...Object.values(before).map((v) => Number(v.rv))));
    second.api.close();
    expect(await second.tug.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
