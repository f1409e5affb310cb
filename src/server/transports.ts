/**
 * Picks an HTTP adapter by name. Adapters are imported lazily so that running with node-http2
 * never loads uWebSockets.js, and the Deno adapter (which uses Deno globals and is excluded from
 * the Node typecheck) is only loaded on Deno.
 */
import type { Transport } from "../transport/types.ts";

export const TRANSPORT_NAMES = ["tug-h2", "node-http2", "uws", "deno"] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

export function isTransportName(v: string): v is TransportName {
  return (TRANSPORT_NAMES as readonly string[]).includes(v);
}

/** True when running under Deno. */
export function onDeno(): boolean {
  return "Deno" in globalThis;
}

/**
 * The default adapter for the running engine: Deno.serve on Deno; on Node, tug-h2 (HTTP/2 on
 * Tugboat's own core). `TUG_TRANSPORT=<name>` overrides it (e.g. `node-http2` to compare).
 */
export function defaultTransport(): TransportName {
  const env = typeof process !== "undefined" ? process.env["TUG_TRANSPORT"] : undefined;
  if (env !== undefined && env !== "") {
    if (!isTransportName(env)) throw new Error(`TUG_TRANSPORT=${env}: not one of ${TRANSPORT_NAMES.join(", ")}`);
    return env;
  }
  return onDeno() ? "deno" : "tug-h2";
}

function isTransport(v: unknown): v is Transport {
  return typeof v === "object" && v !== null && "listen" in v && typeof v.listen === "function" &&
    "name" in v && typeof v.name === "string";
}

/**
 * Loads the named adapter. Throws `Error` when the adapter cannot run here (Deno outside Deno)
 * or fails to load.
 */
export async function loadTransport(name: TransportName): Promise<Transport> {
  if (name === "deno" && !onDeno()) {
    throw new Error(`transport "deno" needs the Deno runtime (use \`deno task server …\`)`);
  }
  // A computed specifier keeps tsc from pulling the Deno-only adapter into the Node typecheck.
  const spec = `../transport/${name}/mod.ts`;
  const mod: unknown = await import(spec);
  if (typeof mod !== "object" || mod === null) throw new Error(`transport "${name}": module has no exports`);
  // Accept either a ready Transport export or a zero-argument factory returning one.
  for (const value of Object.values(mod)) {
    if (isTransport(value)) return value;
  }
  for (const [key, value] of Object.entries(mod)) {
    if (typeof value === "function" && /^create\w*Transport$/.test(key) && value.length === 0) {
      const t: unknown = value();
      if (isTransport(t)) return t;
    }
  }
  throw new Error(`transport "${name}": src/transport/${name}/mod.ts exports no Transport`);
}
