/**
 * Test helper: seeded random JSON-shaped objects that follow the schema table, built so that a
 * protobuf round trip must reproduce them exactly (no zero scalars outside keepZero fields, no empty
 * lists or maps, times at second precision, …).
 */
import { MESSAGES } from "../generated/schema.ts";
import type { FieldSchema } from "./schema.ts";
import { base64Encode, formatDuration, formatMicroTime, formatTime } from "./special.ts";

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const WORDS = ["a", "web", "nginx", "kube-system", "ünïcødé", "日本語", "emoji-😀", "x".repeat(130), "100m", ""];

export class RandomObjects {
  constructor(private readonly r: () => number, private readonly maxDepth = 5) {}

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  string(allowEmpty: boolean): string {
    const s = this.pick(WORDS) + (this.r() < 0.5 ? String(this.int(1000)) : "");
    return s === "" && !allowEmpty ? "z" : s;
  }

  private scalar(type: string, keepZero: boolean): unknown {
    switch (type) {
      case "string":
        return this.string(keepZero);
      case "bytes":
        return base64Encode(Uint8Array.from({ length: 1 + this.int(20) }, () => this.int(256)));
      case "int32": {
        const v = this.pick([0, 1, 127, 128, 300, -1, -2147483648, 2147483647, this.int(1e6)]);
        return v === 0 && !keepZero ? 7 : v;
      }
      case "int64": {
        const v = this.pick([0, 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -(2 ** 40), this.int(1e12)]);
        return v === 0 && !keepZero ? 9 : v;
      }
      case "bool":
        return keepZero ? this.r() < 0.5 : true;
      case "double":
      case "float":
        return 0.5 + this.int(100);
      default:
        throw new Error(`no generator for ${type}`);
    }
  }

  private value(f: FieldSchema, depth: number): unknown {
    const m = MESSAGES[f.type];
    if (!m) return this.scalar(f.type, f.keepZero === true || f.repeated === true || f.map === true);
    switch (m.special) {
      case "time":
        return formatTime(1 + this.int(4e9));
      case "microtime":
        return formatMicroTime(1 + this.int(4e9), this.int(1e6) * 1000);
      case "duration":
        return formatDuration(this.pick([0, 1, 1500, 2e6, 1.5e9, 3723e9, -60e9]));
      case "intorstring":
        return this.r() < 0.5 ? this.int(70000) : this.string(true);
      case "quantity":
        return this.pick(["0", "100m", "1Gi", "2", "1.5"]);
      case "raw":
        return this.pick([{ a: 1, b: [true, "x"] }, [1, 2], "text", 3, { nested: { deep: {} } }]);
      case "fieldsv1":
        return { "f:metadata": { "f:labels": { ".": {} } } };
      case "strings":
        return ["get", "list", "watch"].slice(0, 1 + this.int(3));
      case "union": // every apiextensions schema union accepts a schema object
        return this.message("k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", depth + 1);
      case undefined:
        return this.message(f.type, depth + 1);
    }
  }

  /** A random object of message `fq`. */
  message(fq: string, depth = 0, into: Record<string, unknown> = {}): Record<string, unknown> {
    const m = MESSAGES[fq];
    if (!m) throw new Error(`unknown message ${fq}`);
    for (const f of m.fields) {
      if (f.inline) {
        if (depth < this.maxDepth) this.message(f.type, depth + 1, into);
        continue;
      }
      const special = MESSAGES[f.type]?.special;
      const isMsg = MESSAGES[f.type] !== undefined && (special === undefined || special === "union");
      if (isMsg && depth >= this.maxDepth) continue;
      if (this.r() < (depth === 0 ? 0.2 : 0.5)) continue;
      if (f.map) {
        const o: Record<string, unknown> = {};
        const n = 1 + this.int(3);
        for (let i = 0; i < n; i++) o[this.string(true) + i] = this.value(f, depth);
        into[f.json] = o;
      } else if (f.repeated) {
        into[f.json] = Array.from({ length: 1 + this.int(isMsg ? 2 : 3) }, () => this.value(f, depth));
      } else {
        into[f.json] = this.value(f, depth);
      }
    }
    return into;
  }
}
