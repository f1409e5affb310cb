/**
 * A plain HTTP endpoint for the scheduler's metrics (`tug scheduler --metrics-address`):
 * `GET /metrics` (Prometheus text), `GET /healthz` ("ok"). Loopback addresses are the norm here.
 */
import { createServer, type Server } from "node:http";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0 = any free port). `metrics()` renders the text; `healthy()` says
 * whether /healthz answers 200. Rejects when the address cannot be bound.
 */
export function serveMetrics(host: string, port: number, metrics: () => string, healthy: () => boolean = () => true): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405).end(); return; }
    if (path === "/metrics") { res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics()); return; }
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      const ok = healthy();
      res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8" }).end(ok ? "ok" : "not ready");
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const a = server.address();
      resolve({
        port: typeof a === "object" && a ? a.port : port,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
