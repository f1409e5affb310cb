/**
 * The apiserver's resource registry: the built-in resources plus those added and removed at run
 * time (custom resources). `ServerCore.kinds` and `ServerCore.resources` read from it, so routing,
 * discovery and OpenAPI follow every change. Listeners hear about changes after they happened.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Resource } from "../context.ts";
import type { KindInfo, SchemaHooks } from "../ports.ts";
import type { JsonSchema } from "../openapi/schemas.ts";

/** What OpenAPI needs of a dynamic kind: its definitions by name (kind and list). */
export interface DynamicOpenApi {
  /** Definition name of the kind and of its list (e.g. `com.example.stable.v1.CronTab`). */
  readonly definition: string;
  readonly listDefinition: string;
  readonly v3: Readonly<Record<string, JsonSchema>>;
  readonly v2: Readonly<Record<string, JsonSchema>>;
}

/** Extras a dynamic resource brings besides the Resource itself. */
export interface DynamicExtras {
  /** Unknown-field / type hooks for the kind (consulted before the generated ones). */
  readonly schema?: SchemaHooks;
  readonly openapi?: DynamicOpenApi;
}

export interface DynamicEntry {
  readonly res: Resource;
  readonly extras: DynamicExtras;
}

export type RegistryListener = (change: { readonly added?: Resource; readonly removed?: Resource }) => void;

export class ResourceRegistry {
  /** Keyed by `<group>/<version>/<plural>` (ServerCore.resources is this map). */
  readonly resources = new Map<string, Resource>();
  private readonly dynamic = new Map<string, DynamicEntry>();
  private readonly byGvk = new Map<string, DynamicEntry>();
  private kindList: KindInfo[] | undefined;
  private gen = 0;
  private readonly listeners = new Set<RegistryListener>();
  /** Builds and starts the reader (watch cache) of an added resource; set once the server started. */
  private startReader: ((res: Resource) => Promise<void>) | undefined;

  constructor(builtIn: Iterable<Resource>) {
    for (const r of builtIn) this.resources.set(keyOf(r), r);
  }

  /** Served kinds in registration order (built-ins first). */
  kinds(): readonly KindInfo[] {
    this.kindList ??= [...this.resources.values()].map((r) => r.info);
    return this.kindList;
  }

  /** Increases on every add/remove. */
  get generation(): number {
    return this.gen;
  }

  setReaderStarter(fn: ((res: Resource) => Promise<void>) | undefined): void {
    this.startReader = fn;
  }

  /** Adds (or replaces) a dynamic resource; its reader is started before it becomes visible. */
  async add(res: Resource, extras: DynamicExtras = {}): Promise<void> {
    const key = keyOf(res);
    if (this.startReader) await this.startReader(res);
    const old = this.resources.get(key);
    if (old && !this.dynamic.has(key)) throw new Error(`registry: ${key} is a built-in resource`);
    const entry = { res, extras };
    this.resources.set(key, res);
    this.dynamic.set(key, entry);
    this.byGvk.set(`${res.apiVersion} ${res.info.kind}`, entry);
    this.changed();
    if (old && old !== res) {
      old.reader?.stop();
      this.notify({ removed: old, added: res });
    } else this.notify({ added: res });
  }

  /** Removes a dynamic resource and stops its reader (watchers get cut off). */
  remove(key: string): void {
    const e = this.dynamic.get(key);
    if (!e) return;
    this.dynamic.delete(key);
    this.resources.delete(key);
    const gvk = `${e.res.apiVersion} ${e.res.info.kind}`;
    if (this.byGvk.get(gvk) === e) this.byGvk.delete(gvk);
    e.res.reader?.stop();
    this.changed();
    this.notify({ removed: e.res });
  }

  /** Dynamic entries (custom resources), in insertion order. */
  dynamicEntries(): readonly DynamicEntry[] {
    return [...this.dynamic.values()];
  }

  isDynamic(key: string): boolean {
    return this.dynamic.has(key);
  }

  /** Schema hooks of a dynamic kind, by apiVersion and kind. */
  schemaFor(apiVersion: string, kind: string): SchemaHooks | undefined {
    return this.byGvk.get(`${apiVersion} ${kind}`)?.extras.schema;
  }

  onChange(fn: RegistryListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stops the readers of every dynamic resource (server stop). */
  stopDynamic(): void {
    for (const e of this.dynamic.values()) {
      e.res.reader?.stop();
      delete e.res.reader;
    }
  }

  private changed(): void {
    this.kindList = undefined;
    this.gen++;
  }

  private notify(c: { added?: Resource; removed?: Resource }): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        // a listener's failure must not break registration
      }
    }
  }
}

function keyOf(r: Resource): string {
  return `${r.info.group}/${r.info.version}/${r.info.plural}`;
}

/** Schema hooks that consult the registry's dynamic kinds first, then `base`. */
export function registryAwareSchemaHooks(base: SchemaHooks, reg: ResourceRegistry): SchemaHooks {
  return {
    unknownFields(apiVersion: string, kind: string, obj: KubeObject): string[] {
      const d = reg.schemaFor(apiVersion, kind);
      if (d) return d.unknownFields?.(apiVersion, kind, obj) ?? [];
      return base.unknownFields?.(apiVersion, kind, obj) ?? [];
    },
    typeError(apiVersion: string, kind: string, obj: KubeObject): string | undefined {
      const d = reg.schemaFor(apiVersion, kind);
      if (d) return d.typeError?.(apiVersion, kind, obj);
      return base.typeError?.(apiVersion, kind, obj);
    },
    mergeKeys(apiVersion, kind) {
      const d = reg.schemaFor(apiVersion, kind);
      if (d) return d.mergeKeys?.(apiVersion, kind);
      return base.mergeKeys?.(apiVersion, kind);
    },
  };
}
