/** Cell formatters shared by several kinds' tables (kubectl printer facts). */
import { isRecord, recs, str, strMap, type Json } from "./_access.ts";

/** `labels.FormatLabels`: "a=b,c=d" sorted by key, or "<none>". */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${labels?.[k] ?? ""}`).join(",");
}

/** `metav1.FormatLabelSelector`: requirements sorted by key; "<none>" when empty. */
export function formatLabelSelector(sel: unknown): string {
  if (!isRecord(sel)) return "<none>";
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(strMap(sel, "matchLabels") ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const r of recs(sel, "matchExpressions")) {
    const k = str(r, "key") ?? "";
    const vals = (Array.isArray(r.values) ? r.values : []).filter((x): x is string => typeof x === "string").sort();
    switch (r.operator) {
      case "In": reqs.push({ key: k, text: `${k} in (${vals.join(",")})` }); break;
      case "NotIn": reqs.push({ key: k, text: `${k} notin (${vals.join(",")})` }); break;
      case "Exists": reqs.push({ key: k, text: k }); break;
      case "DoesNotExist": reqs.push({ key: k, text: `!${k}` }); break;
      default: return "<error>";
    }
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const s = reqs.map((r) => r.text).join(",");
  return s === "" ? "<none>" : s;
}

/** Selector text for Scale.status.selector (same grammar; "" for an empty selector). */
export function selectorString(sel: unknown): string {
  const s = formatLabelSelector(sel);
  return s === "<none>" || s === "<error>" ? "" : s;
}

/** Containers / Images cells: comma-joined names and images. */
export function layoutContainerCells(podSpec: unknown): [string, string] {
  const cs = recs(podSpec, "containers");
  return [cs.map((c) => str(c, "name") ?? "").join(","), cs.map((c) => str(c, "image") ?? "").join(",")];
}

const LOAD_BALANCER_WIDTH = 16;

/** Load balancer ingress IPs/hostnames, sorted and de-duplicated; clipped to 16 chars unless wide. */
export function loadBalancerStatus(status: unknown, wide: boolean): string {
  const set = new Set<string>();
  for (const ing of recs(status, "ingress")) {
    const ip = str(ing, "ip");
    const host = str(ing, "hostname");
    if (ip) set.add(ip); else if (host) set.add(host);
  }
  let r = [...set].sort().join(",");
  if (!wide && r.length > LOAD_BALANCER_WIDTH) r = `${r.slice(0, LOAD_BALANCER_WIDTH - 3)}...`;
  return r;
}

/** "a,b,c + 2 more..." (max items shown; "" when empty). */
export function listWithMore(items: string[], max: number): string {
  if (items.length <= max) return items.join(",");
  return `${items.slice(0, max).join(",")} + ${items.length - max} more...`;
}

/** A small IntOrString printer (`intstr.String()`). */
export function intOrString(v: unknown): string {
  return typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
}

export function boolCell(v: unknown): string {
  return v === true ? "True" : v === false ? "False" : "<unset>";
}

export const conditionTrue = (obj: Json, type: string): boolean =>
  recs(obj, "status", "conditions").some((c) => c.type === type && c.status === "True");

