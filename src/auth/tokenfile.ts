/**
 * Static token file, as kube-apiserver's `--token-auth-file`: CSV lines
 * `token,user,uid[,"group1,group2,..."]`. Blank lines and lines starting with `#` are skipped.
 */
import { readFile } from "node:fs/promises";

export interface TokenUser {
  readonly user: string;
  readonly uid?: string;
  readonly groups: string[];
}

/** Splits one CSV line with RFC 4180 quoting (`""` inside quotes is a quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === "\"") {
        if (line[i + 1] === "\"") {
          cur += "\"";
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === "\"") quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (quoted) throw new Error("unterminated quoted field");
  out.push(cur);
  return out;
}

/** Parses token file text. Throws `Error("token file line N: ...")` on a bad line. */
export function parseTokenFile(text: string): Map<string, TokenUser> {
  const out = new Map<string, TokenUser>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    let fields: string[];
    try {
      fields = splitCsvLine(line);
    } catch (e) {
      throw new Error(`token file line ${i + 1}: ${(e as Error).message}`);
    }
    if (fields.length < 3) throw new Error(`token file line ${i + 1}: expected at least 3 columns (token,user,uid), got ${fields.length}`);
    const [token, user, uid, groups] = fields.map((f) => f.trim());
    if (!token || !user) throw new Error(`token file line ${i + 1}: token and user must not be empty`);
    if (out.has(token)) throw new Error(`token file line ${i + 1}: duplicate token`);
    out.set(token, {
      user,
      ...(uid ? { uid } : {}),
      groups: groups ? groups.split(",").map((g) => g.trim()).filter((g) => g !== "") : [],
    });
  });
  return out;
}

/** Reads and parses a token file. */
export async function loadTokenFile(path: string): Promise<Map<string, TokenUser>> {
  return parseTokenFile(await readFile(path, "utf8"));
}
