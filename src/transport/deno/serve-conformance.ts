/**
 * Serves the conformance handler with the Deno adapter, for the (Node-side) conformance suite.
 *   deno run --allow-net --allow-read --allow-env serve-conformance.ts [certFile keyFile]
 * Prints `LISTENING <port>` once it serves; stops on SIGTERM/SIGINT.
 */
import { createConformanceHandler } from "../conformance-handler.ts";
import { denoTransport } from "./mod.ts";

declare const Deno: {
  readonly args: readonly string[];
  readTextFileSync(path: string): string;
  addSignalListener(signal: "SIGTERM" | "SIGINT", fn: () => void): void;
  exit(code: number): never;
};

const [certFile, keyFile] = Deno.args;
const tls = certFile && keyFile ? { cert: Deno.readTextFileSync(certFile), key: Deno.readTextFileSync(keyFile) } : undefined;
const server = await denoTransport.listen(createConformanceHandler(), { host: "127.0.0.1", port: 0, ...(tls ? { tls } : {}) });
console.log(`LISTENING ${server.port}`);
const stop = (): void => {
  server.close().then(() => Deno.exit(0), () => Deno.exit(1));
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
