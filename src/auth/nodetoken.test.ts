import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, expect } from "vitest";
import { authenticate } from "./authenticate.ts";
import { ensureNodeTokenKey, NodeTokenMap, nodeToken, readNodeTokenKey, verifyNodeToken } from "./nodetoken.ts";

const key = new Uint8Array(32).fill(7);
const other = new Uint8Array(32).fill(8);

describe("node tokens", () => {
  it("prove the node they were made for, and nothing else", () => {
    const t = nodeToken(key, "hollow-1");
    expect(verifyNodeToken(key, t)).toBe("hollow-1");
    expect(verifyNodeToken(other, t)).toBeUndefined();
    expect(verifyNodeToken(key, t.replace("hollow-1", "hollow-2"))).toBeUndefined();
    expect(verifyNodeToken(key, t.slice(0, -1))).toBeUndefined();
    expect(verifyNodeToken(key, "tugnode..x")).toBeUndefined();
    expect(verifyNodeToken(key, "random")).toBeUndefined();
    expect(() => nodeToken(key, "Bad_Name")).toThrow('invalid node name "Bad_Name"');
  });

  it("authenticate as system:node:<name> in system:nodes beside the static tokens", () => {
    const m = new NodeTokenMap(key, new Map([["adm", { user: "admin", groups: ["system:masters"] }]]));
    const r = authenticate({ headers: { authorization: `Bearer ${nodeToken(key, "n1")}` } }, m);
    expect(r).toEqual({ ok: true, user: { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] } });
    expect(authenticate({ headers: { authorization: "Bearer adm" } }, m)).toMatchObject({ ok: true, user: { name: "admin" } });
    expect(authenticate({ headers: { authorization: `Bearer ${nodeToken(other, "n1")}` } }, m)).toEqual({ ok: false, presented: true });
    expect(m.get(nodeToken(key, "n1"))).toBe(m.get(nodeToken(key, "n1")));
    expect([...m.keys()]).toEqual(["adm"]);
  });

  it("keeps the key in the PKI directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "tug-nodetoken-"));
    try {
      expect(readNodeTokenKey(dir)).toBeUndefined();
      const k = ensureNodeTokenKey(dir);
      expect(k.length).toBe(32);
      expect(ensureNodeTokenKey(dir)).toEqual(k);
      writeFileSync(join(dir, "node-token.key"), "nope\n");
      expect(() => readNodeTokenKey(dir)).toThrow("not a 32-byte hex key");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
