import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MapObjectSource } from "../env/objects.ts";
import type { PodObject } from "../types.ts";
import { VolumeManager } from "./manager.ts";

const d = mkdtempSync(join(tmpdir(), "tug-vol-"));
afterAll(() => rmSync(d, { recursive: true, force: true }));
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const node = { cpuMillis: 2000, memoryBytes: 2 ** 31, ephemeralStorageBytes: 2 ** 34 };
const facts = { podIPs: ["127.10.0.2"], hostIPs: ["127.0.0.1"] };

function pod(volumes: unknown[], mounts: unknown[] = [], uid = "uid-1"): PodObject {
  return {
    metadata: { name: "p", namespace: "ns", uid, labels: { app: "x" }, annotations: { a: "1" } },
    spec: { nodeName: "n1", serviceAccountName: "robot", volumes, containers: [{ name: "c", resources: { limits: { memory: "64Mi" } }, volumeMounts: mounts }] },
  } as PodObject;
}

function source(): MapObjectSource {
  return new MapObjectSource()
    .put("ConfigMap", { metadata: { name: "cfg", namespace: "ns" }, data: { "app.conf": "color=blue\n", other: "o" }, binaryData: { "bin.dat": b64("\u0001\u0002") } })
    .put("Secret", { metadata: { name: "sec", namespace: "ns" }, data: { password: b64("hunter2"), user: b64("admin") } });
}

describe("VolumeManager", () => {
  const vm = new VolumeManager({ root: join(d, "pods"), shmRoot: "" });

  it("configMap, secret, downwardAPI and projected volumes with items and modes", () => {
    const objects = source();
    const p = pod([
      { name: "cfg", configMap: { name: "cfg" } },
      { name: "cfg-items", configMap: { name: "cfg", items: [{ key: "app.conf", path: "conf/app.conf", mode: 0o600 }], defaultMode: 0o640 } },
      { name: "sec", secret: { secretName: "sec", defaultMode: 0o400 } },
      { name: "down", downwardAPI: { items: [
        { path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "name", fieldRef: { fieldPath: "metadata.name" } },
        { path: "mem", resourceFieldRef: { containerName: "c", resource: "limits.memory", divisor: "1Mi" } },
      ] } },
      { name: "proj", projected: { sources: [
        { configMap: { name: "cfg", items: [{ key: "other", path: "other" }] } }, { secret: { name: "sec", items: [{ key: "user", path: "user" }] } },
        { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } },
        { serviceAccountToken: { path: "token", expirationSeconds: 3600, audience: "api" } },
      ] } },
    ]);
    const r = vm.setup(p, { objects, facts, node });
    expect(r.failures).toEqual([]);
    const base = join(d, "pods", "uid-1", "volumes");
    expect(r.paths.get("cfg")).toBe(join(base, "kubernetes.io~configmap", "cfg"));
    expect(readFileSync(join(base, "kubernetes.io~configmap/cfg/app.conf"), "utf8")).toBe("color=blue\n");
    expect([...readFileSync(join(base, "kubernetes.io~configmap/cfg/bin.dat"))]).toEqual([1, 2]);
    expect(statSync(join(base, "kubernetes.io~configmap/cfg/app.conf")).mode & 0o777).toBe(0o644);
    expect(statSync(join(base, "kubernetes.io~configmap/cfg-items/conf/app.conf")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(base, "kubernetes.io~configmap/cfg-items/other"))).toBe(false);
    expect(readFileSync(join(base, "kubernetes.io~secret/sec/password"), "utf8")).toBe("hunter2");
    expect(statSync(join(base, "kubernetes.io~secret/sec/user")).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(base, "kubernetes.io~downward-api/down/labels"), "utf8")).toBe('app="x"');
    expect(readFileSync(join(base, "kubernetes.io~downward-api/down/name"), "utf8")).toBe("p");
    expect(readFileSync(join(base, "kubernetes.io~downward-api/down/mem"), "utf8")).toBe("64");
    expect(readFileSync(join(base, "kubernetes.io~projected/proj/other"), "utf8")).toBe("o");
    expect(readFileSync(join(base, "kubernetes.io~projected/proj/user"), "utf8")).toBe("admin");
    expect(readFileSync(join(base, "kubernetes.io~projected/proj/ns"), "utf8")).toBe("ns");
    const [, claims] = readFileSync(join(base, "kubernetes.io~projected/proj/token"), "utf8").split(".");
    expect(JSON.parse(Buffer.from(claims!, "base64url").toString())).toMatchObject({ aud: ["api"], sub: "system:serviceaccount:ns:robot", "kubernetes.io": { pod: { name: "p", uid: "uid-1" } } });

    // An update of the ConfigMap swaps the content on the next setup; the token is not reissued.
    const tokenBefore = readFileSync(join(base, "kubernetes.io~projected/proj/token"), "utf8");
    const dataBefore = readlinkSync(join(base, "kubernetes.io~projected/proj/..data"));
    objects.put("ConfigMap", { metadata: { name: "cfg", namespace: "ns" }, data: { "app.conf": "color=red\n", other: "o" } });
    vm.setup(p, { objects, facts, node });
    expect(readFileSync(join(base, "kubernetes.io~configmap/cfg/app.conf"), "utf8")).toBe("color=red\n");
    expect(existsSync(join(base, "kubernetes.io~configmap/cfg/bin.dat"))).toBe(false);
    expect(readFileSync(join(base, "kubernetes.io~projected/proj/token"), "utf8")).toBe(tokenBefore);
    expect(readlinkSync(join(base, "kubernetes.io~projected/proj/..data"))).toBe(dataBefore);
  });

  it("missing objects and keys: FailedMount texts; optional ones give empty volumes", () => {
    const r = vm.setup(pod([
      { name: "a", configMap: { name: "nope" } },
      { name: "b", secret: { secretName: "nope" } },
      { name: "c", configMap: { name: "cfg", items: [{ key: "missing", path: "m" }] } },
      { name: "d", configMap: { name: "nope", optional: true } },
      { name: "e", secret: { secretName: "sec", items: [{ key: "missing", path: "m" }] } },
      { name: "f", persistentVolumeClaim: { claimName: "x" } },
      { name: "g", downwardAPI: { items: [{ path: "ip", fieldRef: { fieldPath: "status.podIP" } }] } },
      { name: "h", configMap: { name: "cfg", items: [{ key: "other", path: "../escape" }] } },
    ], [], "uid-2"), { objects: source(), facts, node });
    expect(r.failures).toEqual([
      { volume: "a", message: 'MountVolume.SetUp failed for volume "a" : configmap "nope" not found' },
      { volume: "b", message: 'MountVolume.SetUp failed for volume "b" : secret "nope" not found' },
      { volume: "c", message: 'MountVolume.SetUp failed for volume "c" : configmap references non-existent config key: missing' },
      { volume: "e", message: 'MountVolume.SetUp failed for volume "e" : references non-existent secret key: missing' },
      { volume: "f", message: 'MountVolume.SetUp failed for volume "f" : volume type "persistentVolumeClaim" is not supported by this node agent' },
      { volume: "g", message: 'MountVolume.SetUp failed for volume "g" : Unable to extract field ip: unsupported fieldPath: status.podIP' },
      { volume: "h", message: 'MountVolume.SetUp failed for volume "h" : invalid path: must not contain \'..\': "../escape"' },
    ]);
    expect(r.paths.has("d")).toBe(true);
  });

  it("emptyDir, hostPath, mounts with subPath/subPathExpr/readOnly, teardown", () => {
    const hp = join(d, "host-data");
    const shm = join(d, "shm");
    const vm2 = new VolumeManager({ root: join(d, "pods2"), shmRoot: d });
    const p = pod([
      { name: "scratch", emptyDir: {} }, { name: "mem", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      { name: "host", hostPath: { path: hp, type: "DirectoryOrCreate" } }, { name: "cfg", configMap: { name: "cfg" } },
      { name: "bad-host", hostPath: { path: join(d, "nope"), type: "Directory" } },
    ], [
      { name: "scratch", mountPath: "/scratch" }, { name: "mem", mountPath: "/mem" }, { name: "host", mountPath: "/host", readOnly: true },
      { name: "host", mountPath: "/logs", subPathExpr: "$(POD_NAME)/logs" }, { name: "cfg", mountPath: "/etc/app.conf", subPath: "app.conf" },
    ], "uid-3");
    const r = vm2.setup(p, { objects: source(), facts, node });
    expect(r.failures).toEqual([{ volume: "bad-host", message: `MountVolume.SetUp failed for volume "bad-host" : hostPath type check failed: ${join(d, "nope")} is not a directory` }]);
    const mounts = vm2.mounts(p, p.spec!.containers![0]!, new Map([["POD_NAME", "p"]]));
    expect(mounts).toEqual([
      { containerPath: "/scratch", hostPath: join(d, "pods2/uid-3/volumes/kubernetes.io~empty-dir/scratch") },
      { containerPath: "/mem", hostPath: join(d, "tugboat-uid-3-mem") },
      { containerPath: "/host", hostPath: hp, readonly: true },
      { containerPath: "/logs", hostPath: join(hp, "p/logs") },
      { containerPath: "/etc/app.conf", hostPath: join(d, "pods2/uid-3/volumes/kubernetes.io~configmap/cfg/app.conf"), readonly: true },
    ]);
    expect(statSync(join(hp, "p/logs")).isDirectory()).toBe(true);
    expect(lstatSync(join(d, "pods2/uid-3/volumes/kubernetes.io~empty-dir/mem")).isSymbolicLink()).toBe(true);
    writeFileSync(join(d, "tugboat-uid-3-mem", "f"), "x");
    expect(() => vm2.mounts(p, { name: "c", volumeMounts: [{ name: "ghost", mountPath: "/g" }] }, new Map())).toThrow('cannot find volume "ghost" to mount into container "c"');
    expect(() => vm2.mounts(p, { name: "c", volumeMounts: [{ name: "scratch", mountPath: "/g", subPath: "../x" }] }, new Map())).toThrow("must be a relative path without '..'");
    // A link planted inside the volume cannot carry a subPath mount out of it.
    symlinkSync("/etc", join(d, "pods2/uid-3/volumes/kubernetes.io~empty-dir/scratch/escape"));
    expect(() => vm2.mounts(p, { name: "c", volumeMounts: [{ name: "scratch", mountPath: "/x", subPath: "escape" }] }, new Map()))
      .toThrow('failed to prepare subPath for volumeMount "scratch" of container "c": subPath "escape" resolves outside the volume');
    vm2.teardown("uid-3");
    expect(existsSync(join(d, "pods2/uid-3"))).toBe(false);
    expect(existsSync(join(d, "tugboat-uid-3-mem"))).toBe(false);
    expect(existsSync(hp)).toBe(true); // hostPath content is the host's
    void shm;
  });

  it("cleanupOrphans removes unknown pod dirs", () => {
    const vm3 = new VolumeManager({ root: join(d, "pods3"), shmRoot: "" });
    vm3.setup(pod([{ name: "s", emptyDir: {} }], [], "keep"), { objects: source(), facts, node });
    vm3.setup(pod([{ name: "s", emptyDir: {} }], [], "gone"), { objects: source(), facts, node });
    expect(vm3.cleanupOrphans(new Set(["keep"]))).toBe(1);
    expect(existsSync(join(d, "pods3/keep"))).toBe(true);
    expect(existsSync(join(d, "pods3/gone"))).toBe(false);
    expect(() => new VolumeManager({ root: "relative" })).toThrow("must be absolute");
    expect(() => vm3.setup(pod([], [], "../x"), { objects: source(), facts, node })).toThrow("invalid pod uid");
  });
});
