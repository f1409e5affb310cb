import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authenticate, isPublicPath, loadTokenFile, parseTokenFile } from "./mod.ts";

describe("token file", () => {
  it("parses kube-apiserver token CSV with quoted groups", () => {
    const m = parseTokenFile(`# comment\nabc,admin,1,"system:masters,dev"\n\nxyz,bob,2\n`);
    expect(m.get("abc")).toEqual({ user: "admin", uid: "1", groups: ["system:masters", "dev"] });
    expect(m.get("xyz")).toEqual({ user: "bob", uid: "2", groups: [] });
  });
  it("rejects short lines, empty users, duplicates, broken quotes", () => {
    expect(() => parseTokenFile("abc,admin")).toThrow(/line 1: expected at least 3/);
    expect(() => parseTokenFile("abc,,1")).toThrow(/must not be empty/);
    expect(() => parseTokenFile("a,b,1\na,c,2")).toThrow(/line 2: duplicate/);
    expect(() => parseTokenFile(`a,b,1,"x`)).toThrow(/unterminated/);
  });
  it("loads from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tok-"));
    writeFileSync(join(dir, "t.csv"), "t1,u1,u1id,g1\n");
    expect((await loadTokenFile(join(dir, "t.csv"))).get("t1")?.user).toBe("u1");
  });
});

describe("authenticate", () => {
  const tokens = parseTokenFile(`good,alice,1,"devs"`);
  it("accepts a known bearer token", () => {
    const r = authenticate({ headers: { authorization: "Bearer good" } }, tokens);
    expect(r).toEqual({ ok: true, user: { name: "alice", uid: "1", groups: ["devs", "system:authenticated"] } });
  });
  it("rejects unknown tokens and malformed headers as presented", () => {
    expect(authenticate({ headers: { authorization: "Bearer bad" } }, tokens)).toEqual({ ok: false, presented: true });
    expect(authenticate({ headers: { authorization: "Basic Zm9v" } }, tokens)).toEqual({ ok: false, presented: true });
  });
  it("uses client certificates", () => {
    const r = authenticate({ headers: {}, peerCertificate: { commonName: "admin", organizations: ["system:masters"] } }, tokens);
    expect(r.ok && r.user.name).toBe("admin");
    expect(r.ok && r.user.groups).toContain("system:masters");
  });
  it("reports anonymous when nothing is presented", () => {
    expect(authenticate({ headers: {} }, tokens)).toEqual({ ok: false, presented: false });
  });
  it("caches per header value, but honours a token map that changed", () => {
    const m = new Map([["t1", { user: "u", groups: ["g"] }]]);
    const a = authenticate({ headers: { authorization: "Bearer t1" } }, m);
    const b = authenticate({ headers: { authorization: "Bearer t1" } }, m);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.ok && Object.isFrozen(a.user.groups)).toBe(true);
    m.set("t1", { user: "v", groups: [] });
    const c = authenticate({ headers: { authorization: "Bearer t1" } }, m);
    expect(c.ok && c.user.name).toBe("v");
    m.delete("t1");
    expect(authenticate({ headers: { authorization: "Bearer t1" } }, m)).toEqual({ ok: false, presented: true });
    m.set("t2", { user: "w", groups: [] });
    expect(authenticate({ headers: { authorization: "Bearer t1" } }, m)).toEqual({ ok: false, presented: true });
    expect(authenticate({ headers: { authorization: "  bearer   t2 " } }, m)).toMatchObject({ ok: true, user: { name: "w" } });
  });
  it("a malformed header with a client certificate authenticates by the certificate; results per cert are cached", () => {
    const cert = { commonName: "node-1", organizations: ["system:nodes"] };
    const a = authenticate({ headers: { authorization: "Basic x" }, peerCertificate: cert }, tokens);
    expect(a).toEqual({ ok: true, user: { name: "node-1", groups: ["system:nodes", "system:authenticated"] } });
    expect(authenticate({ headers: {}, peerCertificate: cert }, tokens)).toBe(a);
    expect(authenticate({ headers: {}, peerCertificate: { commonName: "", organizations: [] } }, tokens)).toEqual({ ok: false, presented: false });
  });
  it("knows the public paths", () => {
    expect(isPublicPath("/healthz")).toBe(true);
    expect(isPublicPath("/readyz/ping")).toBe(true);
    expect(isPublicPath("/version")).toBe(true);
    expect(isPublicPath("/api")).toBe(false);
  });
});
