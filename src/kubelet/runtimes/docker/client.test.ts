import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { connectDocker } from "./client.ts";

describe("connectDocker", () => {
  it("names the host it cannot reach", async () => {
    await expect(connectDocker("unix:///nonexistent/tug-test.sock", 500)).rejects.toThrow("cannot reach the Docker daemon at unix:///nonexistent/tug-test.sock");
    await expect(connectDocker("/no/scheme.sock", 500)).rejects.toThrow("must be unix:///path.sock or tcp://host:port");
  });

  it("loads dockerode without its BuildKit session (gRPC) and SSH modules, which load on first use", async () => {
    await connectDocker("unix:///nonexistent/tug-test.sock", 500).catch(() => undefined);
    const require = createRequire(import.meta.url);
    const loaded = Object.keys(require.cache);
    expect(loaded.some((k) => k.includes("/dockerode/"))).toBe(true);
    expect(loaded.filter((k) => k.includes("/@grpc/") || k.includes("/ssh2/"))).toEqual([]);
    const modem = createRequire(require.resolve("dockerode")).resolve("docker-modem");
    const sshPath = createRequire(modem).resolve("./ssh");
    const standIn = require.cache[sshPath]?.exports as (opt: object) => unknown;
    expect(typeof standIn).toBe("function");
    const agent = standIn({ host: "127.0.0.1" }); // builds an http.Agent; connects only when used
    expect(agent).toBeTypeOf("object");
    expect(Object.keys(require.cache).some((k) => k.includes("/ssh2/"))).toBe(true);
  });
});
