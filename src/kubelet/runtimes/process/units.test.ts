import { describe, expect, it } from "vitest";
import { shellQuote, exitCodeOf } from "./exec.ts";
import { cpuMax, cpuWeight, findCgroup2Mount } from "./limits.ts";
import { parseProcStat } from "./proc.ts";
import { containerArgv } from "./runtime.ts";
import { isShimOf, isShimUnder, SHIM_MARKER } from "./shim.ts";
import { allocateAddress, intToIp, parseAddressPool } from "./state.ts";
import type { ImageDefinition } from "./images.ts";

describe("pod address pool", () => {
  it("parses loopback CIDRs and refuses others", () => {
    expect(parseAddressPool("127.10.0.0/16")).toMatchObject({ size: 65536, cidr: "127.10.0.0/16" });
    expect(intToIp(parseAddressPool("127.10.3.7/24").base)).toBe("127.10.3.0");
    expect(() => parseAddressPool("192.168.0.0/16")).toThrow(/inside 127\.0\.0\.0\/8/);
    expect(() => parseAddressPool("127.0.0.0/7")).toThrow(/prefix length/);
    expect(() => parseAddressPool("127.0.0.300/24")).toThrow(/IPv4 CIDR/);
    expect(() => parseAddressPool("127.0.0.0")).toThrow(/IPv4 CIDR/);
  });

  it("allocates round robin, skips used addresses and reports exhaustion", () => {
    const pool = parseAddressPool("127.9.9.0/29"); // 8 addresses, 5 usable (.2-.6)
    const a = allocateAddress(pool, new Set(), 0)!;
    expect(a.ip).toBe("127.9.9.2");
    const b = allocateAddress(pool, new Set([a.ip]), a.next)!;
    expect(b.ip).toBe("127.9.9.3");
    // Released .2 is not handed out again before the cursor wraps.
    expect(allocateAddress(pool, new Set([b.ip]), b.next)!.ip).toBe("127.9.9.4");
    const all = new Set(["127.9.9.2", "127.9.9.3", "127.9.9.4", "127.9.9.5", "127.9.9.6"]);
    expect(allocateAddress(pool, all, 3)).toBeUndefined();
  });
});

describe("helpers", () => {
  it("parses /proc/<pid>/stat with odd command names", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = "S";
    const st = parseProcStat(`42 (a (b) c) ${fields.join(" ")}`)!;
    expect(st).toMatchObject({ pid: 42, state: "S", ppid: 4, pgid: 5, startTime: 22, rssPages: 24 });
    expect(parseProcStat("garbage")).toBeUndefined();
  });

  it("builds argv the Kubernetes way", () => {
    const img: ImageDefinition = { source: "t", entrypoint: ["/ep"], cmd: ["c1"], env: {}, size: 1 };
    expect(containerArgv({ metadata: { name: "a", attempt: 0 }, image: { image: "x" }, labels: {}, annotations: {} }, img)).toEqual(["/ep", "c1"]);
    expect(containerArgv({ metadata: { name: "a", attempt: 0 }, image: { image: "x" }, args: ["a1"], labels: {}, annotations: {} }, img)).toEqual(["/ep", "a1"]);
    expect(containerArgv({ metadata: { name: "a", attempt: 0 }, image: { image: "x" }, command: ["sh"], labels: {}, annotations: {} }, img)).toEqual(["sh"]);
    expect(containerArgv({ metadata: { name: "a", attempt: 0 }, image: { image: "x" }, command: ["sh"], args: ["-c", "x"], labels: {}, annotations: {} }, img)).toEqual(["sh", "-c", "x"]);
  });

  it("maps cpu limits and requests to cgroup v2 values", () => {
    expect(cpuMax(undefined)).toBe("max 100000");
    expect(cpuMax(250)).toBe("25000 100000");
    expect(cpuMax(1)).toBe("1000 100000"); // kernel minimum quota
    expect(cpuMax(2000)).toBe("200000 100000");
    expect(cpuWeight(undefined)).toBe(1);
    expect(cpuWeight(1000)).toBe(39);
    expect(cpuWeight(1_000_000)).toBe(10_000);
  });

  it("finds the cgroup2 mount in mountinfo", () => {
    const mi = "25 1 0:22 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n26 1 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
    expect(findCgroup2Mount(mi)).toBe("/sys/fs/cgroup/unified");
    expect(findCgroup2Mount("25 1 0:22 / /x rw - ext4 /dev/sda rw\n")).toBeUndefined();
  });

  it("recognizes shims by marker and container dir", () => {
    const argv = ["/bin/sh", "-c", "script", SHIM_MARKER, "/data/sandboxes/s/containers/c", "/bin/sleep"];
    expect(isShimOf(argv, "/data/sandboxes/s/containers/c")).toBe(true);
    expect(isShimOf(argv, "/data/sandboxes/s/containers/d")).toBe(false);
    expect(isShimUnder(argv, "/data")).toBe(true);
    expect(isShimUnder(argv, "/dat")).toBe(false);
    expect(isShimUnder(["/bin/sh", "-c", "x", "other", "/data/x"], "/data")).toBe(false);
  });

  it("quotes shell words and maps signals to exit codes", () => {
    expect(shellQuote("plain/path.txt")).toBe("plain/path.txt");
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(null, "SIGKILL")).toBe(137);
    expect(exitCodeOf(null, "SIGTERM")).toBe(143);
  });
});
