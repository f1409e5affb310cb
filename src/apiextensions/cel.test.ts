import { describe, it, expect } from "vitest";
import { celCompileErrors, celValidatorFor, compileExpression, MAX_EVALUATIONS } from "./cel.ts";
import { validateCrd } from "./crd_strategy.ts";
import type { Schema } from "./schema.ts";
import type { ValidationRule } from "../api/generated/apiextensions_v1.ts";

const specSchema = (rules: ValidationRule[], extra: Record<string, Schema> = {}): Schema => ({
  type: "object",
  properties: {
    spec: {
      type: "object", "x-kubernetes-validations": rules,
      properties: { replicas: { type: "integer" }, maxReplicas: { type: "integer" }, name: { type: "string" }, ...extra },
    },
  },
});
const cr = (spec: Record<string, unknown>) => ({ apiVersion: "x.io/v1", kind: "X", metadata: { name: "a" }, spec });
const run = (rules: ValidationRule[], spec: Record<string, unknown>, old?: Record<string, unknown>) =>
  celValidatorFor(specSchema(rules))?.validate(cr(spec), old ? cr(old) : undefined) ?? [];

describe("CEL x-kubernetes-validations", () => {
  const rule = { rule: "self.replicas <= self.maxReplicas" };
  it("passes a true rule and reports a false one with the default message", () => {
    expect(run([rule], { replicas: 1, maxReplicas: 2 })).toEqual([]);
    expect(run([rule], { replicas: 3, maxReplicas: 2 })).toEqual([{
      type: "FieldValueInvalid", field: "spec",
      message: 'Invalid value: "object": failed rule: self.replicas <= self.maxReplicas',
    }]);
  });
  it("uses message, messageExpression (falling back when it fails), fieldPath and reason", () => {
    expect(run([{ ...rule, message: "too many" }], { replicas: 3, maxReplicas: 2 })[0]?.message).toBe('Invalid value: "object": too many');
    expect(run([{ ...rule, message: "m", messageExpression: "'replicas ' + string(self.replicas) + ' > max'" }], { replicas: 3, maxReplicas: 2 })[0]?.message)
      .toBe('Invalid value: "object": replicas 3 > max');
    expect(run([{ ...rule, message: "m", messageExpression: "self.nope" }], { replicas: 3, maxReplicas: 2 })[0]?.message).toBe('Invalid value: "object": m');
    const e = run([{ ...rule, fieldPath: ".replicas", reason: "FieldValueForbidden", message: "no" }], { replicas: 3, maxReplicas: 2 });
    expect(e).toEqual([{ type: "FieldValueForbidden", field: "spec.replicas", message: "Forbidden: no" }]);
    expect(run([{ ...rule, reason: "FieldValueRequired", message: "need" }], { replicas: 3, maxReplicas: 2 })[0])
      .toEqual({ type: "FieldValueRequired", field: "spec", message: "Required value: need" });
    expect(run([{ ...rule, reason: "FieldValueDuplicate" }], { replicas: 3, maxReplicas: 2 })[0]?.type).toBe("FieldValueDuplicate");
  });
  it("treats integers as CEL ints and supports macros and string extensions", () => {
    expect(run([{ rule: "self.replicas + 1 == 4 && size(self.name) == 3 && self.name.lowerAscii() == 'abc'" }], { replicas: 3, name: "ABC" })).toEqual([]);
    expect(run([{ rule: "has(self.name) && ['a','b'].all(x, x != self.name)" }], { name: "c" })).toEqual([]);
  });
  it("runs oldSelf transition rules only on update", () => {
    const t = { rule: "self.name == oldSelf.name", message: "name is immutable" };
    expect(run([t], { name: "a" })).toEqual([]);
    expect(run([t], { name: "a" }, { name: "a" })).toEqual([]);
    expect(run([t], { name: "b" }, { name: "a" })).toEqual([{ type: "FieldValueInvalid", field: "spec", message: 'Invalid value: "object": name is immutable' }]);
    const s = specSchema([t, rule]);
    const v = celValidatorFor(s);
    expect(v?.validate(cr({ name: "b", replicas: 3, maxReplicas: 2 }), cr({ name: "a" }), "transition")).toHaveLength(1);
    expect(v?.validate(cr({ name: "b", replicas: 3, maxReplicas: 2 }), cr({ name: "a" }), "plain")?.[0]?.message).toContain("failed rule");
  });
  it("reports evaluation errors", () => {
    expect(run([{ rule: "self.replicas / 0 == 1" }], { replicas: 3 })).toEqual([{
      type: "FieldValueInvalid", field: "spec", message: 'Invalid value: "object": int divide by zero evaluating rule: self.replicas / 0 == 1',
    }]);
    expect(run([{ rule: "self.maxReplicas > 1" }], { replicas: 3 })[0]?.message).toContain("evaluating rule: self.maxReplicas > 1");
    expect(run([{ rule: "self.replicas" }], { replicas: 3 })[0]?.message).toContain("expected boolean result");
  });
  it("evaluates rules on items, additionalProperties and the root, at their paths", () => {
    const s: Schema = {
      type: "object", "x-kubernetes-validations": [{ rule: "self.metadata.name != 'bad'" }],
      properties: {
        spec: { type: "object", properties: {
          list: { type: "array", items: { type: "string", "x-kubernetes-validations": [{ rule: "self.startsWith('a')" }] } },
          m: { type: "object", additionalProperties: { type: "integer", "x-kubernetes-validations": [{ rule: "self > 0" }] } },
        } },
      },
    };
    const errs = celValidatorFor(s)?.validate({ metadata: { name: "bad" }, spec: { list: ["ab", "b"], m: { k: 0 } } }) ?? [];
    expect(errs.map((e) => `${e.field}: ${e.message}`)).toEqual([
      `<root>: Invalid value: "object": failed rule: self.metadata.name != 'bad'`,
      `spec.list[1]: Invalid value: "string": failed rule: self.startsWith('a')`,
      `spec.m[k]: Invalid value: "integer": failed rule: self > 0`,
    ]);
  });
  it("caches the compiled validator per schema object and is undefined without rules", () => {
    const s = specSchema([rule]);
    expect(celValidatorFor(s)).toBe(celValidatorFor(s));
    expect(celValidatorFor({ type: "object", properties: { spec: { type: "object" } } })).toBeUndefined();
  });
  it("stops at the evaluation budget", () => {
    const s: Schema = { type: "object", properties: { spec: { type: "object", properties: {
      l: { type: "array", items: { type: "integer", "x-kubernetes-validations": [{ rule: "self >= 0" }] } },
    } } } };
    const errs = celValidatorFor(s)?.validate({ spec: { l: Array.from({ length: MAX_EVALUATIONS + 5 }, () => 1) } }) ?? [];
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toContain("running out of cost budget");
  });
});

describe("CEL compile errors", () => {
  it("rejects rules that do not parse or name unknown functions/variables", () => {
    expect(compileExpression("self.x ==").ok).toBe(false);
    const q = compileExpression("quantity(self.q) > quantity('1Gi')");
    expect(q.ok ? "" : q.error).toContain("undeclared reference to 'quantity'");
    const u = compileExpression("self.a == other");
    expect(u.ok ? "" : u.error).toContain("undeclared reference to 'other'");
    expect(compileExpression("self.l.all(x, x > 0) && self.m.exists(k, k == 'a')").ok).toBe(true);
  });
  it("names the rule's path, messageExpression and reason", () => {
    const errs = celCompileErrors(specSchema([
      { rule: "self.replicas <=" }, { rule: "true", messageExpression: "'a' +" }, { rule: "true", reason: "Nope" }, {},
    ]), "spec.versions[0].schema.openAPIV3Schema");
    const p = "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations";
    expect(errs.map((e) => e.field)).toEqual([`${p}[0].rule`, `${p}[1].messageExpression`, `${p}[2].reason`, `${p}[3].rule`]);
    expect(errs[0]?.message).toMatch(/^Invalid value: "self.replicas <=": compilation failed: ERROR: /);
  });
  it("rejects the CRD", () => {
    const crd = {
      metadata: { name: "xs.x.io" },
      spec: { group: "x.io", scope: "Namespaced", names: { plural: "xs", kind: "X", listKind: "XList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: specSchema([{ rule: "self.a ==" }]) } }] },
    };
    const errs = validateCrd(crd);
    expect(errs).toHaveLength(1);
    expect(errs[0]?.field).toBe("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule");
  });
});
