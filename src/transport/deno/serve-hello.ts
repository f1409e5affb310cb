/**
 * A hello-world server on the Deno adapter, for bench/transport.ts.
 *   deno run --allow-net --allow-read serve-hello.ts [certFile keyFile]
 * Prints `LISTENING <port>`; stops on SIGTERM.
 */
import { denoTransport } from "./mod.ts";

declare const Deno: {
  readonly args: readonly string[];
  readTextFileSync(path: string): string;
  addSignalListener(signal: "SIGTERM" | "SIGINT", fn: () => void): void;
  exit(code: number): never;
};

const [certFile, keyFile] = Deno.args;
const tls = certFile && keyFile ? { cert: Deno.readTextFileSync(certFile), key: Deno.readTextFileSync(keyFile) } : undefined;
const hello = new TextEncoder().encode("hello\n");
const server = await denoTransport.listen(
  () => Promise.resolve({ status: 200, headers: { "content-type": "text/plain" }, body: hello }),
  { host: "127.0.0.1", port: 0, ...(tls ? { tls } : {}) },
);
console.log(`LISTENING ${server.port}`);
Deno.addSignalListener("SIGTERM", () => {
  server.close().then(() => Deno.exit(0), () => Deno.exit(1));
});
