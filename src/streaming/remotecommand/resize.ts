/**
 * Terminal size messages: JSON objects `{"Width":100,"Height":30}` written back to back (Go's
 * json.Encoder adds "\n"; over WebSocket each message holds one). A pure incremental decoder:
 * feed bytes, get sizes. Malformed input stops the decoder (the kubelet stops reading resizes).
 */
import type { TerminalSize } from "./types.ts";

const MAX_PENDING = 64 * 1024;

export class ResizeDecoder {
  #pending = "";
  #dead = false;
  readonly #td = new TextDecoder();

  /** True after malformed input. */
  get failed(): boolean {
    return this.#dead;
  }

  push(bytes: Uint8Array): TerminalSize[] {
    if (this.#dead) return [];
    this.#pending += this.#td.decode(bytes, { stream: true });
    const out: TerminalSize[] = [];
    // Each iteration consumes one object; bounded by the input length.
    for (;;) {
      const start = this.#pending.search(/\S/);
      if (start === -1) {
        this.#pending = "";
        break;
      }
      const end = objectEnd(this.#pending, start);
      if (end === "bad") return this.#fail(out);
      if (end === undefined) {
        if (this.#pending.length > MAX_PENDING) return this.#fail(out);
        break;
      }
      const size = toSize(this.#pending.slice(start, end));
      if (size === undefined) return this.#fail(out);
      out.push(size);
      this.#pending = this.#pending.slice(end);
    }
    return out;
  }

  #fail(out: TerminalSize[]): TerminalSize[] {
    this.#dead = true;
    this.#pending = "";
    return out;
  }
}

/** Index after the JSON object starting at `start`, undefined if incomplete, "bad" if not an object. */
function objectEnd(s: string, start: number): number | undefined | "bad" {
  if (s[start] !== "{") return "bad";
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

function toSize(json: string): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const w = "Width" in v ? v.Width : 0;
  const h = "Height" in v ? v.Height : 0;
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (!ok(w) || !ok(h)) return undefined;
  return { width: w, height: h };
}
