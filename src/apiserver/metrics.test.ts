import { describe, expect, it } from "vitest";
import { ApiMetrics } from "./metrics.ts";

const line = (text: string, prefix: string): string | undefined => text.split("\n").find((l) => l.startsWith(prefix));

describe("ApiMetrics", () => {
  it("counts requests per verb, resource and code", () => {
    const m = new ApiMetrics();
    m.observeRequest("GET", "pods", 200, 0.001);
    m.observeRequest("GET", "pods", 200, 0.002);
    m.observeRequest("GET", "pods", 404, 0.001);
    m.observeRequest("LIST", "pods", 200, 0.3);
    const t = m.render();
    expect(line(t, 'apiserver_request_total{verb="GET",resource="pods",code="200"}')).toBe('apiserver_request_total{verb="GET",resource="pods",code="200"} 2');
    expect(line(t, 'apiserver_request_total{verb="GET",resource="pods",code="404"}')?.endsWith(" 1")).toBe(true);
    expect(line(t, 'apiserver_request_total{verb="LIST",resource="pods",code="200"}')?.endsWith(" 1")).toBe(true);
  });

  it("histogram buckets are cumulative, with +Inf, sum and count; values above the last bucket count only in +Inf", () => {
    const m = new ApiMetrics();
    m.observeRequest("GET", "pods", 200, 0.005); // on the first bound: le=0.005
    m.observeRequest("GET", "pods", 200, 0.03);
    m.observeRequest("GET", "pods", 200, 0.5);
    m.observeRequest("GET", "pods", 200, 100);
    const t = m.render();
    const bucket = (le: string): string | undefined =>
      line(t, `apiserver_request_duration_seconds_bucket{verb="GET",resource="pods",le="${le}"}`)?.split(" ")[1];
    expect(bucket("0.005")).toBe("1");
    expect(bucket("0.025")).toBe("1");
    expect(bucket("0.05")).toBe("2");
    expect(bucket("0.4")).toBe("2");
    expect(bucket("0.6")).toBe("3");
    expect(bucket("60")).toBe("3");
    expect(bucket("+Inf")).toBe("4");
    expect(line(t, 'apiserver_request_duration_seconds_count{verb="GET",resource="pods"}')).toBe('apiserver_request_duration_seconds_count{verb="GET",resource="pods"} 4');
    expect(Number(line(t, 'apiserver_request_duration_seconds_sum{verb="GET",resource="pods"}')?.split(" ")[1])).toBeCloseTo(100.535);
  });

  it("the SLI histogram leaves out the time a request waited for a flow-control seat", () => {
    const m = new ApiMetrics();
    m.observeRequest("PATCH", "pods", 200, 3.2, 3.0); // 3 s queued, 0.2 s processing
    m.observeRequest("PATCH", "pods", 200, 0.01);
    m.observeRequest("PATCH", "pods", 200, 0.5, 0.7); // clock skew never makes it negative
    const t = m.render();
    const full = (le: string): string | undefined => line(t, `apiserver_request_duration_seconds_bucket{verb="PATCH",resource="pods",le="${le}"}`)?.split(" ")[1];
    const sli = (le: string): string | undefined => line(t, `apiserver_request_sli_duration_seconds_bucket{verb="PATCH",resource="pods",le="${le}"}`)?.split(" ")[1];
    expect(full("1")).toBe("2");
    expect(sli("1")).toBe("3");
    expect(sli("0.025")).toBe("2"); // 0.01 and the clamped 0
    expect(Number(line(t, 'apiserver_request_sli_duration_seconds_sum{verb="PATCH",resource="pods"}')?.split(" ")[1])).toBeCloseTo(0.21);
    expect(t).toContain("# TYPE apiserver_request_sli_duration_seconds histogram");
  });

  it("watches are counted but kept out of the latency histogram; watchers and events are tracked", () => {
    const m = new ApiMetrics();
    m.observeRequest("WATCH", "pods", 200, 30);
    m.watcher("", "Pod", 1);
    m.watcher("", "Pod", 1);
    m.watcher("", "Pod", -1);
    m.watchEventSent("", "Pod");
    const t = m.render();
    expect(line(t, 'apiserver_request_total{verb="WATCH"')?.endsWith(" 1")).toBe(true);
    expect(line(t, 'apiserver_request_duration_seconds_count{verb="WATCH"')).toBeUndefined();
    expect(line(t, 'apiserver_registered_watchers{group="",kind="Pod"}')).toBe('apiserver_registered_watchers{group="",kind="Pod"} 1');
    expect(line(t, 'apiserver_longrunning_requests{verb="WATCH"}')).toBe('apiserver_longrunning_requests{verb="WATCH"} 1');
    expect(line(t, 'apiserver_watch_events_total{group="",kind="Pod"}')).toBe('apiserver_watch_events_total{group="",kind="Pod"} 1');
  });

  it("escapes label values", () => {
    const m = new ApiMetrics();
    m.observeRequest("GET", 'we"ird\\\n', 200, 0.001);
    expect(m.render()).toContain('resource="we\\"ird\\\\\\n"');
  });
});
