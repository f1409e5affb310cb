/**
 * The scripted golden test driver (etcd-io/raft interaction-test shape). A script is blocks of
 *
 *   command args…
 *     continuation lines (JSON / YAML payload)
 *   ----
 *   expected output
 *
 * separated by blank lines. Commands:
 *   config                      (payload: KubeSchedulerConfiguration YAML; must come first)
 *   node add|update NAME [cpu=4 memory=8Gi pods=110 ephemeral=… example.com/gpu=2
 *                         labels=k=v,… taints=k=v:Effect,… unschedulable images=name@500Mi,…]
 *   node delete NAME
 *   pod add|update NAME [ns=… cpu=… memory=… priority=N labels=… node=N nominated=N
 *                        tolerations=k=v:Effect|k:Exists|:Exists,… nodeSelector=k=v,…
 *                        ports=80,53/UDP images=a,b gates=g1,… preemption=Never scheduler=NAME
 *                        start=RFC3339 terminating]      (payload: JSON merged into spec)
 *   pod delete NAME [ns=…]      pod ungate NAME [ns=…]
 *   namespace NAME labels=…     pdb NAME ns=… selector=k=v,… allowed=N
 *   service NAME ns=… selector=k=v,…
 *   binder fail ns/NAME         (the next bindings of that pod fail)
 *   schedule [N]                (up to N cycles, default until activeQ is empty; binds, then
 *                                confirms bindings and evicts victims as a runner would)
 *   tick DURATION               (advance the clock: 500ms, 2s, 5m; then flush)
 *   queue | nodes | events
 */
import type { Node, Pod, Taint, Toleration } from "../api/generated/core_v1.ts";
import { parseLabelSelector } from "../api/selectors/labels.ts";
import { FakeClock } from "./clock.ts";
import { parseSchedulerConfig } from "./framework/config.ts";
import type { Kernel } from "./kernel/types.ts";
import { Scheduler } from "./scheduler.ts";
import { makeNode, makePod, MemoryBinder, MemoryPreemptor, MemoryRecorder, type NodeSpecLite, type PodSpecLite } from "./testing.ts";
import { podKey } from "./types.ts";

export interface Block { readonly command: string; readonly payload: string; readonly expected: string }

/** Splits a script into blocks; throws SyntaxError naming the line on malformed input. */
export function parseScript(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) { i++; continue; }
    const command = line.trim();
    const payload: string[] = [];
    i++;
    while (i < lines.length && (lines[i] ?? "").startsWith(" ")) { payload.push((lines[i] ?? "").slice(2)); i++; }
    if ((lines[i] ?? "") !== "----") throw new SyntaxError(`script line ${i + 1}: expected "----" after command ${JSON.stringify(command)}`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] ?? "") !== "") { out.push(lines[i] ?? ""); i++; }
    blocks.push({ command, payload: payload.join("\n"), expected: out.join("\n") });
  }
  return blocks;
}

/** Renders blocks back (with new outputs) for UPDATE_GOLDEN. Comments and spacing are normalized. */
export function renderScript(header: string, blocks: readonly Block[], outputs: readonly string[]): string {
  const parts = blocks.map((b, k) => {
    const payload = b.payload ? `\n${b.payload.split("\n").map((l) => `  ${l}`).join("\n")}` : "";
    return `${b.command}${payload}\n----\n${outputs[k] ?? ""}`;
  });
  return `${header}${parts.join("\n\n")}\n`;
}

function kv(args: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 0) m.set(a, "true"); else m.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return m;
}
function labels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const p of s.split(",")) { const [k, v] = p.split("="); if (k) out[k] = v ?? ""; }
  return out;
}
function taints(s: string | undefined): Taint[] {
  if (!s) return [];
  return s.split(",").map((t) => {
    const [kvPart, effect] = t.split(":");
    const [key, value] = (kvPart ?? "").split("=");
    return { key: key ?? "", ...(value !== undefined ? { value } : {}), effect: effect ?? "NoSchedule" };
  });
}
function tolerations(s: string | undefined): Toleration[] {
  if (!s) return [];
  return s.split(",").map((t) => {
    const [kvPart, second, third] = t.split(":");
    if (second === "Exists") return { key: kvPart ?? "", operator: "Exists", ...(third ? { effect: third } : {}) };
    const [key, value] = (kvPart ?? "").split("=");
    return { key: key ?? "", operator: "Equal", value: value ?? "", ...(second ? { effect: second } : {}) };
  });
}
function duration(s: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(s);
  if (!m) throw new SyntaxError(`bad duration ${JSON.stringify(s)} (want 500ms, 2s, 5m)`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}
function quantityBytes(s: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(s);
  if (!m) throw new SyntaxError(`bad size ${JSON.stringify(s)}`);
  const mult = m[2] === "Ki" ? 1024 : m[2] === "Mi" ? 1024 ** 2 : m[2] === "Gi" ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

const CORE_NODE_KEYS = new Set(["cpu", "memory", "pods", "ephemeral", "labels", "taints", "unschedulable", "images"]);

/** Runs scripts against one kernel; `run` returns the output of each block. */
export class ScriptRunner {
  private sched: Scheduler | undefined;
  private readonly clock = new FakeClock(1_000_000);
  private readonly binder = new MemoryBinder();
  private readonly recorder = new MemoryRecorder();
  private readonly preemptor = new MemoryPreemptor();
  private eventsSeen = 0;
  private readonly nodes = new Map<string, Node>();
  private readonly pods = new Map<string, Pod>();

  constructor(private readonly kernel: Kernel) {}

  private s(): Scheduler {
    this.sched ??= this.create(undefined);
    return this.sched;
  }
  private create(config: string | undefined): Scheduler {
    return new Scheduler({
      kernel: this.kernel, binder: this.binder, clock: this.clock, recorder: this.recorder, preemptor: this.preemptor, seed: 7,
      ...(config !== undefined ? { config: parseSchedulerConfig(config) } : {}),
    });
  }

  async run(blocks: readonly Block[]): Promise<string[]> {
    const outs: string[] = [];
    for (const b of blocks) {
      try { outs.push(await this.exec(b)); } catch (e) { outs.push(`error: ${e instanceof Error ? e.message : String(e)}`); }
    }
    return outs;
  }

  private async exec(b: Block): Promise<string> {
    const [cmd, ...args] = b.command.split(/\s+/);
    switch (cmd) {
      case "config":
        if (this.sched) throw new Error("config must come first");
        this.sched = this.create(b.payload);
        return "ok";
      case "node": return this.node(args, b.payload);
      case "pod": return this.pod(args, b.payload);
      case "namespace": {
        const a = kv(args.slice(1));
        this.s().setNamespace(args[0] ?? "", labels(a.get("labels")));
        return "ok";
      }
      case "pdb": {
        const a = kv(args.slice(1));
        this.s().setPdb(a.get("ns") ?? "default", args[0] ?? "", {
          namespace: a.get("ns") ?? "default", name: args[0] ?? "", selector: parseLabelSelector(a.get("selector") ?? ""),
          disruptionsAllowed: Number(a.get("allowed") ?? "0"), disruptedPods: new Set(),
        });
        return "ok";
      }
      case "service": {
        const a = kv(args.slice(1));
        this.s().setWorkloadSelector("Service", a.get("ns") ?? "default", args[0] ?? "", parseLabelSelector(a.get("selector") ?? ""));
        return "ok";
      }
      case "binder":
        if (args[0] !== "fail" || !args[1]) throw new SyntaxError("usage: binder fail ns/name");
        this.binder.failFor.add(args[1]);
        return "ok";
      case "schedule": return this.schedule(args[0] === undefined ? 1000 : Number(args[0]));
      case "tick":
        this.clock.step(duration(args[0] ?? ""));
        this.s().flush();
        return this.queueText();
      case "queue": return this.queueText();
      case "nodes": return this.nodesText();
      case "events": return this.eventsText();
      default: throw new SyntaxError(`unknown command ${JSON.stringify(cmd)}`);
    }
  }

  private node(args: readonly string[], _payload: string): string {
    const [verb, name = ""] = args;
    const a = kv(args.slice(2));
    const s = this.s();
    if (verb === "delete") {
      const n = this.nodes.get(name);
      if (!n) throw new Error(`node ${name} not found`);
      this.nodes.delete(name);
      s.deleteNode(n);
      return "ok";
    }
    const extended: Record<string, string> = {};
    for (const [k, v] of a) if (!CORE_NODE_KEYS.has(k)) extended[k] = v;
    const spec: NodeSpecLite = {
      extended, labels: labels(a.get("labels")), taints: taints(a.get("taints")), unschedulable: a.has("unschedulable"),
      images: (a.get("images")?.split(",") ?? []).map((x) => { const [n, sz] = x.split("@"); return { names: [n ?? ""], sizeBytes: quantityBytes(sz ?? "0") }; }),
    };
    for (const k of ["cpu", "memory", "pods", "ephemeral"] as const) { const v = a.get(k); if (v !== undefined) spec[k] = v; }
    const node = makeNode(name, spec);
    const old = this.nodes.get(name);
    this.nodes.set(name, node);
    if (verb === "add") { if (old) throw new Error(`node ${name} exists`); s.addNode(node); }
    else if (verb === "update") { if (!old) throw new Error(`node ${name} not found`); s.updateNode(old, node); }
    else throw new SyntaxError(`node ${verb}?`);
    return "ok";
  }

  private pod(args: readonly string[], payload: string): string {
    const [verb, name = ""] = args;
    const a = kv(args.slice(2));
    const ns = a.get("ns") ?? "default";
    const key = `${ns}/${name}`;
    const s = this.s();
    const old = this.pods.get(key);
    if (verb === "delete") {
      if (!old) throw new Error(`pod ${key} not found`);
      this.pods.delete(key);
      s.deletePod(old);
      return "ok";
    }
    if (verb === "ungate") {
      if (!old) throw new Error(`pod ${key} not found`);
      const next: Pod = { ...old, spec: { ...old.spec, schedulingGates: [] } };
      this.pods.set(key, next);
      s.updatePod(old, next);
      return this.queueText();
    }
    const requests: Record<string, string> = {};
    for (const k of ["cpu", "memory", "ephemeral-storage"]) { const v = a.get(k); if (v) requests[k] = v; }
    for (const [k, v] of a) if (k.includes("/")) requests[k] = v;
    const lite: PodSpecLite = { namespace: ns, labels: labels(a.get("labels")) };
    if (Object.keys(requests).length) lite.requests = requests;
    const opt = (k: string): string | undefined => a.get(k);
    if (opt("priority")) lite.priority = Number(opt("priority"));
    if (opt("node")) lite.nodeName = opt("node") ?? "";
    if (opt("nominated")) lite.nominatedNodeName = opt("nominated") ?? "";
    if (opt("tolerations")) lite.tolerations = tolerations(opt("tolerations"));
    if (opt("nodeSelector")) lite.nodeSelector = labels(opt("nodeSelector"));
    if (opt("ports")) lite.hostPorts = (opt("ports") ?? "").split(",").map((p) => { const [n, proto] = p.split("/"); return { port: Number(n), protocol: proto ?? "TCP" }; });
    if (opt("images")) lite.images = (opt("images") ?? "").split(",");
    if (opt("gates")) lite.gates = (opt("gates") ?? "").split(",");
    if (opt("preemption") === "Never") lite.preemptNever = true;
    if (opt("scheduler")) lite.schedulerName = opt("scheduler") ?? "";
    if (opt("start")) lite.startTime = opt("start") ?? "";
    if (a.has("terminating")) lite.terminating = true;
    if (payload.trim()) lite.spec = JSON.parse(payload) as Record<string, unknown>;
    const pod = makePod(name, lite);
    this.pods.set(key, pod);
    if (verb === "add") { if (old) throw new Error(`pod ${key} exists`); s.addPod(pod); }
    else if (verb === "update") { if (!old) throw new Error(`pod ${key} not found`); s.updatePod(old, pod); }
    else throw new SyntaxError(`pod ${verb}?`);
    return "ok";
  }

  private async schedule(max: number): Promise<string> {
    const s = this.s();
    const lines: string[] = [];
    for (let k = 0; k < max; k++) {
      const r = s.scheduleOne();
      if (!r) break;
      if (r.kind === "scheduled") {
        const ok = await s.bindingCycle(r);
        if (ok) {
          lines.push(`${r.pod.key} -> ${r.node}`);
          const old = this.pods.get(r.pod.key);
          if (old) {
            const next: Pod = { ...old, spec: { ...old.spec, nodeName: r.node } };
            this.pods.set(r.pod.key, next);
            s.updatePod(old, next);
          }
        } else {
          lines.push(`${r.pod.key}: binding failed`);
          this.binder.failFor.delete(r.pod.key);
        }
      } else if (r.kind === "unschedulable") {
        lines.push(`${r.pod.key}: ${r.message}`);
        if (r.nominatedNodeName) {
          lines.push(`  nominated ${r.nominatedNodeName}`);
          const old = this.pods.get(r.pod.key);
          if (old) {
            const next: Pod = { ...old, status: { ...old.status, nominatedNodeName: r.nominatedNodeName } };
            this.pods.set(r.pod.key, next);
            s.updatePod(old, next);
          }
        }
        for (const v of r.victims) {
          lines.push(`  evict ${v.key}`);
          const vp = this.pods.get(v.key);
          if (vp) { this.pods.delete(v.key); s.deletePod(vp); }
        }
      } else if (r.kind === "error") lines.push(`${r.pod.key}: error: ${r.message}`);
      else lines.push(`${r.pod.key}: skipped (${r.reason})`);
    }
    return lines.length ? lines.join("\n") : "(nothing to schedule)";
  }

  private queueText(): string {
    const s = this.s();
    const st = s.queue.stats();
    const lines = [`active=${st.active} backoff=${st.backoff} unschedulable=${st.unschedulable} gated=${st.gated}`];
    for (const key of [...this.pods.keys()].sort()) {
      const w = s.queue.where(key);
      if (w) lines.push(`  ${key}: ${w}`);
    }
    return lines.join("\n");
  }

  private nodesText(): string {
    const s = this.s();
    s.cache.updateSnapshot(s.snapshot);
    const names = [...s.snapshot.index.keys()].sort();
    return names.map((n) => {
      const ni = s.snapshot.get(n);
      if (!ni) return n;
      const pods = ni.pods.map((p) => p.key).sort().join(",");
      return `${n}: cpu ${ni.requestedCpu}m/${ni.alloc("cpu")}m memory ${ni.requestedMemory}/${ni.alloc("memory")} pods [${pods}]`;
    }).join("\n") || "(no nodes)";
  }

  private eventsText(): string {
    const ev = this.recorder.events.slice(this.eventsSeen);
    this.eventsSeen = this.recorder.events.length;
    return ev.map((e) => `${e.type} ${e.reason} ${e.object}: ${e.message}`).join("\n") || "(no events)";
  }
}

export { podKey };
