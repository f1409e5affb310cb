/**
 * KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): parsing from YAML or JSON,
 * defaulting and validation. Errors name the field path the way apimachinery's field errors do
 * (`profiles[0].plugins.score.enabled[1].weight: Invalid value: -1: …`); every problem found is
 * reported at once in one `SchedulerConfigError`.
 */
import { parse as parseYaml } from "yaml";
import type { ExtensionPoint } from "./interface.ts";
import { EXTENSION_POINTS } from "./interface.ts";

export const API_VERSION = "kubescheduler.config.k8s.io/v1";

export interface PluginRef { readonly name: string; readonly weight: number }
export interface PluginSet { readonly enabled: readonly PluginRef[]; readonly disabled: readonly string[] }
export type PluginsConfig = Partial<Record<ExtensionPoint | "multiPoint", PluginSet>>;

export interface ProfileConfig {
  readonly schedulerName: string;
  readonly percentageOfNodesToScore: number | undefined;
  readonly plugins: PluginsConfig;
  /** Raw args by plugin name (validated by the plugin's args parser in the registry). */
  readonly pluginConfig: ReadonlyMap<string, { readonly args: unknown; readonly path: string }>;
  /** Index in `profiles` (for error paths). */
  readonly index: number;
}

export interface SchedulerConfig {
  readonly percentageOfNodesToScore: number;
  readonly podInitialBackoffSeconds: number;
  readonly podMaxBackoffSeconds: number;
  readonly profiles: readonly ProfileConfig[];
}

/** An invalid configuration; `errors` holds one line per problem. */
export class SchedulerConfigError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? (errors[0] ?? "") : `invalid KubeSchedulerConfiguration: [${errors.join(", ")}]`);
    this.name = "SchedulerConfigError";
  }
}

/** apimachinery-style field error texts. */
export const fieldErr = {
  invalid: (path: string, value: unknown, detail: string): string => `${path}: Invalid value: ${fmt(value)}: ${detail}`,
  required: (path: string, detail = ""): string => `${path}: Required value${detail ? `: ${detail}` : ""}`,
  notSupported: (path: string, value: unknown, supported: readonly string[]): string =>
    `${path}: Unsupported value: ${fmt(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
  duplicate: (path: string, value: unknown): string => `${path}: Duplicate value: ${fmt(value)}`,
};
function fmt(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const TOP_FIELDS = new Set(["apiVersion", "kind", "parallelism", "leaderElection", "clientConnection", "healthzBindAddress",
  "metricsBindAddress", "enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds",
  "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive"]);
const PROFILE_FIELDS = new Set(["schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"]);

function intField(errs: string[], path: string, v: unknown, lo: number, hi: number, detail: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) { errs.push(fieldErr.invalid(path, v, "must be an integer")); return undefined; }
  if (v < lo || v > hi) { errs.push(fieldErr.invalid(path, v, detail)); return undefined; }
  return v;
}

function parsePluginSet(errs: string[], path: string, v: unknown): PluginSet | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) { errs.push(fieldErr.invalid(path, v, "must be an object")); return undefined; }
  const enabled: PluginRef[] = [];
  const disabled: string[] = [];
  for (const [k, list] of [["enabled", v["enabled"]], ["disabled", v["disabled"]]] as const) {
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) { errs.push(fieldErr.invalid(`${path}.${k}`, list, "must be a list")); continue; }
    list.forEach((item: unknown, i: number) => {
      const p = `${path}.${k}[${i}]`;
      if (!isRecord(item) || typeof item["name"] !== "string" || item["name"] === "") {
        errs.push(fieldErr.required(`${p}.name`));
        return;
      }
      const name = item["name"];
      if (k === "disabled") { disabled.push(name); return; }
      if (name === "*") { errs.push(fieldErr.invalid(`${p}.name`, name, "\"*\" can only be used in disabled")); return; }
      const w = item["weight"];
      let weight = 0;
      if (w !== undefined && w !== null) {
        if (typeof w !== "number" || !Number.isInteger(w) || w < 0) {
          errs.push(fieldErr.invalid(`${p}.weight`, w, "weight must be a non-negative integer"));
        } else if (w > 100) {
          errs.push(fieldErr.invalid(`${p}.weight`, w, "weight must not exceed 100"));
        } else weight = w;
      }
      enabled.push({ name, weight });
    });
  }
  return { enabled, disabled };
}

/**
 * Parses a KubeSchedulerConfiguration document (YAML or JSON text, or an already parsed object).
 * Throws `SchedulerConfigError` listing every invalid field.
 */
export function parseSchedulerConfig(input: string | unknown): SchedulerConfig {
  let doc: unknown = input;
  if (typeof input === "string") {
    try { doc = parseYaml(input); } catch (e) {
      throw new SchedulerConfigError([`cannot parse scheduler config: ${e instanceof Error ? e.message : String(e)}`]);
    }
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw new SchedulerConfigError(["scheduler config must be a YAML or JSON object"]);
  const errs: string[] = [];
  const apiVersion = doc["apiVersion"];
  if (apiVersion !== undefined && apiVersion !== API_VERSION) errs.push(fieldErr.notSupported("apiVersion", apiVersion, [API_VERSION]));
  const kind = doc["kind"];
  if (kind !== undefined && kind !== "KubeSchedulerConfiguration") errs.push(fieldErr.notSupported("kind", kind, ["KubeSchedulerConfiguration"]));
  for (const k of Object.keys(doc)) if (!TOP_FIELDS.has(k)) errs.push(`${k}: Invalid value: unknown field ${JSON.stringify(k)}`);
  const pct = intField(errs, "percentageOfNodesToScore", doc["percentageOfNodesToScore"], 0, 100, "not in valid range [0-100]") ?? 0;
  const initial = intField(errs, "podInitialBackoffSeconds", doc["podInitialBackoffSeconds"], 1, 2 ** 31, "must be greater than 0") ?? 1;
  const max = intField(errs, "podMaxBackoffSeconds", doc["podMaxBackoffSeconds"], 1, 2 ** 31, "must be greater than 0") ?? 10;
  if (max < initial) errs.push(fieldErr.invalid("podMaxBackoffSeconds", max, "must be greater than or equal to PodInitialBackoffSeconds"));
  const rawProfiles = doc["profiles"] ?? [{}];
  const profiles: ProfileConfig[] = [];
  if (!Array.isArray(rawProfiles)) errs.push(fieldErr.invalid("profiles", rawProfiles, "must be a list"));
  else {
    if (rawProfiles.length === 0) errs.push(fieldErr.required("profiles"));
    const names = new Set<string>();
    rawProfiles.forEach((rp: unknown, i: number) => {
      const path = `profiles[${i}]`;
      if (!isRecord(rp)) { errs.push(fieldErr.invalid(path, rp, "must be an object")); return; }
      for (const k of Object.keys(rp)) if (!PROFILE_FIELDS.has(k)) errs.push(`${path}.${k}: Invalid value: unknown field ${JSON.stringify(k)}`);
      const schedulerName = rp["schedulerName"] ?? "default-scheduler";
      if (typeof schedulerName !== "string" || schedulerName === "") { errs.push(fieldErr.required(`${path}.schedulerName`)); return; }
      if (names.has(schedulerName)) errs.push(fieldErr.duplicate(`${path}.schedulerName`, schedulerName));
      names.add(schedulerName);
      const ppct = intField(errs, `${path}.percentageOfNodesToScore`, rp["percentageOfNodesToScore"], 0, 100, "not in valid range [0-100]");
      const plugins: Record<string, PluginSet> = {};
      const rawPlugins = rp["plugins"];
      if (rawPlugins !== undefined && rawPlugins !== null) {
        if (!isRecord(rawPlugins)) errs.push(fieldErr.invalid(`${path}.plugins`, rawPlugins, "must be an object"));
        else {
          for (const [k, v] of Object.entries(rawPlugins)) {
            if (k !== "multiPoint" && !(EXTENSION_POINTS as readonly string[]).includes(k)) {
              errs.push(`${path}.plugins.${k}: Invalid value: unknown extension point ${JSON.stringify(k)}`);
              continue;
            }
            const set = parsePluginSet(errs, `${path}.plugins.${k}`, v);
            if (set) plugins[k] = set;
          }
        }
      }
      const pluginConfig = new Map<string, { args: unknown; path: string }>();
      const rawPc = rp["pluginConfig"];
      if (rawPc !== undefined && rawPc !== null) {
        if (!Array.isArray(rawPc)) errs.push(fieldErr.invalid(`${path}.pluginConfig`, rawPc, "must be a list"));
        else rawPc.forEach((pc: unknown, j: number) => {
          const pp = `${path}.pluginConfig[${j}]`;
          if (!isRecord(pc) || typeof pc["name"] !== "string" || pc["name"] === "") { errs.push(fieldErr.required(`${pp}.name`)); return; }
          if (pluginConfig.has(pc["name"])) { errs.push(fieldErr.duplicate(`${pp}.name`, pc["name"])); return; }
          pluginConfig.set(pc["name"], { args: pc["args"] ?? {}, path: `${pp}.args` });
        });
      }
      profiles.push({ schedulerName, percentageOfNodesToScore: ppct, plugins, pluginConfig, index: i });
    });
  }
  if (errs.length > 0) throw new SchedulerConfigError(errs);
  return { percentageOfNodesToScore: pct === 0 ? 100 : pct, podInitialBackoffSeconds: initial, podMaxBackoffSeconds: max, profiles };
}

/** The configuration used when none is given: one "default-scheduler" profile with default plugins. */
export function defaultSchedulerConfig(): SchedulerConfig {
  return parseSchedulerConfig({});
}
