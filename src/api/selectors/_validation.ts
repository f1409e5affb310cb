/**
 * Label key/value syntax checks with upstream's error texts (apimachinery's IsQualifiedName /
 * IsValidLabelValue) and the Go-style rendering of field errors that selector messages embed.
 */

const LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

const labelKeyRe = new RegExp(`^${LABEL_KEY_FMT}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);
const subdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join("or ")}regex used for validation is '${re}')`;
}

/** Byte length as Go counts it (UTF-8). */
function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Problems with a label key (`[prefix/]name`); empty when valid. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = [];
  const parts = key.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? "";
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) {
      errs.push("prefix part must be non-empty");
    } else {
      if (byteLength(prefix) > 253) errs.push("prefix part must be no more than 253 bytes");
      if (!subdomainRe.test(prefix)) {
        errs.push("prefix part " + regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
      }
    }
  } else {
    return ["a valid label key " + regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc") +
      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (byteLength(name) > 63) errs.push("name part must be no more than 63 bytes");
  if (!labelKeyRe.test(name)) {
    errs.push("name part " + regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, "MyName", "my.name", "123-abc"));
  }
  return errs;
}

/** Problems with a label value; empty when valid (the empty string is valid). */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push("must be no more than 63 bytes");
  if (!labelValueRe.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

/** Go's `%q` for strings (close enough: JSON escaping covers the characters selectors can hold). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** field.Invalid(path, value, detail).Error(): `<path>: Invalid value: <value>: <detail>`. */
export function invalidFieldError(path: string, value: string | readonly string[], detail: string): string {
  const v = typeof value === "string" ? goQuote(value) : value.length === 0 ? "null" : JSON.stringify(value);
  return `${path}: Invalid value: ${v}${detail ? `: ${detail}` : ""}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several as `[a, b]` (deduplicated). */
export function aggregate(messages: readonly string[]): string {
  const uniq = [...new Set(messages)];
  return uniq.length === 1 ? (uniq[0] ?? "") : `[${uniq.join(", ")}]`;
}
