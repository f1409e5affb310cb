import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..");

// The agent's idle RSS budget (issue 5: <= 60 MB) depends on what its bundle (bin/_agent.js) does
// not load: each of these cost the agent 1-7 MiB when it did (bench/RESULTS.md, agent-overhead).
describe("agent bundle contents", () => {
  it("leaves out the yaml package, the schema table and the control plane", () => {
    const heavy = ["yaml", "src/api/generated/schema.ts", "src/api/codec/typecheck.ts", "src/apiserver/server.ts", "src/store/memory.ts"];
    const r = spawnSync(process.execPath, [join(repo, "bin/_agent.js"), "--analyze", ...heavy], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    for (const m of heavy) expect(r.stdout).toContain(`${m}: not in the agent bundle`);
    // packages the bundle imports (@peculiar/x509 dynamically: loaded only when a certificate must be issued)
    expect(r.stdout).toMatch(/packages loaded at run time: commander, @peculiar\/x509\n/);
  });

  it("names the import chain of a module that is in the bundle", () => {
    const r = spawnSync(process.execPath, [join(repo, "bin/_agent.js"), "--analyze", "src/api/codec/wire.ts"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^src\/api\/codec\/wire\.ts: src\/kubelet\/main\.ts -> .* -> src\/api\/codec\/wire\.ts$/m);
  });

  it("builds dockerode as one file that requires the deferred modules by relative path", () => {
    const r = spawnSync(process.execPath, [join(repo, "bin/_agent.js"), "--ensure"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(join(repo, "node_modules/.cache/tug-agent/dockerode.cjs"), "utf8");
    // the stand-ins of src/kubelet/runtimes/docker/client.ts are keyed by these modules' paths
    for (const m of ["../../dockerode/lib/session.js", "../../docker-modem/lib/ssh.js", "tar-fs/index.js", "../../@balena/dockerignore/"]) {
      expect(text).toContain(m);
    }
    expect(text).not.toMatch(/require\("\/(?!\/)/); // no absolute paths: the cache survives a moved checkout
  });

  it("refuses an unknown mode with a usage line", () => {
    const r = spawnSync(process.execPath, [join(repo, "bin/_agent.js"), "--nope"], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^usage: node bin\/_agent\.js --ensure/);
  });
});
