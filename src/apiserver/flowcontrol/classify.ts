/**
 * Classification (pure): the first FlowSchema (by matchingPrecedence, then name) with a rule that
 * matches the request picks the priority level; the schema's distinguisher method picks the flow.
 * Matching follows upstream's semantics: a rule matches when one of its subjects matches the user
 * and one of its resource rules (resource requests) or non-resource rules (other paths) matches.
 */
import { ALL, type Classification, type FlowSchema, type NonResourcePolicyRule, type PriorityLevel, type RequestDigest, type ResourcePolicyRule, type Subject } from "./types.ts";

const SA_PREFIX = "system:serviceaccount:";

function has(list: readonly string[] | undefined, v: string): boolean {
  if (list === undefined) return false;
  for (const x of list) if (x === v || x === ALL) return true;
  return false;
}

export function subjectMatches(s: Subject, user: RequestDigest["user"]): boolean {
  switch (s.kind) {
    case "User":
      return s.user.name === ALL || s.user.name === user.name;
    case "Group":
      return s.group.name === ALL || user.groups.includes(s.group.name);
    case "ServiceAccount": {
      if (!user.name.startsWith(SA_PREFIX)) return false;
      const rest = user.name.slice(SA_PREFIX.length);
      const colon = rest.indexOf(":");
      if (colon <= 0) return false;
      const ns = rest.slice(0, colon);
      const name = rest.slice(colon + 1);
      return ns === s.serviceAccount.namespace && (s.serviceAccount.name === ALL || s.serviceAccount.name === name);
    }
  }
}

export function resourceRuleMatches(r: ResourcePolicyRule, d: RequestDigest): boolean {
  if (!has(r.verbs, d.verb) || !has(r.apiGroups, d.apiGroup)) return false;
  const res = d.subresource === "" ? d.resource : `${d.resource}/${d.subresource}`;
  if (!has(r.resources, res)) return false;
  if (d.namespace === "") return r.clusterScope === true;
  return has(r.namespaces, d.namespace);
}

export function nonResourceRuleMatches(r: NonResourcePolicyRule, d: RequestDigest): boolean {
  if (!has(r.verbs, d.verb)) return false;
  for (const u of r.nonResourceURLs) {
    if (u === ALL || u === d.path) return true;
    // `/apis/*` matches `/apis` and everything under it, as upstream.
    if (u.endsWith("/*")) {
      const prefix = u.slice(0, -2);
      if (d.path === prefix || d.path.startsWith(prefix + "/")) return true;
    }
  }
  return false;
}

export function schemaMatches(fs: FlowSchema, d: RequestDigest): boolean {
  for (const rule of fs.rules) {
    if (!rule.subjects.some((s) => subjectMatches(s, d.user))) continue;
    if (d.isResourceRequest) {
      if (rule.resourceRules?.some((r) => resourceRuleMatches(r, d))) return true;
    } else if (rule.nonResourceRules?.some((r) => nonResourceRuleMatches(r, d))) {
      return true;
    }
  }
  return false;
}

/**
 * A classifier over a fixed configuration. Throws `Error` at construction when a schema names a
 * missing priority level or when no schema is configured (a configuration bug, not bad input).
 */
export class Classifier {
  private readonly schemas: readonly FlowSchema[];
  private readonly levels: ReadonlyMap<string, PriorityLevel>;

  constructor(schemas: readonly FlowSchema[], levels: readonly PriorityLevel[]) {
    if (schemas.length === 0) throw new Error("flowcontrol: no FlowSchema configured");
    this.levels = new Map(levels.map((l) => [l.name, l]));
    for (const s of schemas) {
      if (!this.levels.has(s.priorityLevel)) throw new Error(`flowcontrol: FlowSchema ${s.name} names unknown priority level ${s.priorityLevel}`);
    }
    this.schemas = [...schemas].sort((a, b) => a.matchingPrecedence - b.matchingPrecedence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Classifies one request. A request no schema matches lands in the last schema by precedence
   * (upstream's catch-all matches every authenticated and unauthenticated user, so this only
   * happens with a custom configuration lacking one).
   */
  classify(d: RequestDigest): Classification {
    let schema = this.schemas[this.schemas.length - 1] as FlowSchema;
    for (const s of this.schemas) {
      if (schemaMatches(s, d)) {
        schema = s;
        break;
      }
    }
    const level = this.levels.get(schema.priorityLevel) as PriorityLevel;
    const distinguisher = schema.distinguisherMethod === "ByUser" ? d.user.name
      : schema.distinguisherMethod === "ByNamespace" ? (d.isResourceRequest ? d.namespace : "")
      : "";
    return { schema, level, distinguisher, flowKey: `${schema.name}\u0000${distinguisher}` };
  }
}
