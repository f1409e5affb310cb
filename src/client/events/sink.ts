/**
 * Where events are written: the `EventSink` port, its implementation over the client
 * (`clientEventSink`, core/v1 or events.k8s.io/v1), the core/v1 → events.k8s.io/v1 mapping, and
 * `writeEvent`, the one write step the queue runs (create, or patch falling back to create when
 * the Event is gone — expired by the apiserver's event TTL, or its create was spam-filtered).
 */
import type { KubeObject } from "../../api/object.ts";
import { isApiError } from "../../api/errors.ts";
import type { Client } from "../client.ts";
import type { EventWrite, WriteOutcome } from "./queue.ts";
import { rfc3339Micro } from "./types.ts";

/**
 * Writes Events in the library's core/v1 shape. Errors are the apiserver's `ApiError`s or
 * transport errors (the queue decides about retries).
 */
export interface EventSink {
  create(event: KubeObject): Promise<unknown>;
  /** JSON merge patch of the Event `namespace/name` (core/v1 field names). */
  patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<unknown>;
}

export type EventApiVersion = "v1" | "events.k8s.io/v1";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The events.k8s.io/v1 form of a core/v1-shaped Event (`action` defaults to the reason; `eventTime` to firstTimestamp). */
export function toEventsV1(ev: KubeObject): KubeObject {
  const first = str(ev["firstTimestamp"]);
  const eventTime = str(ev["eventTime"]) ?? (first !== undefined ? rfc3339Micro(Date.parse(first)) : undefined);
  const reason = str(ev["reason"]) ?? "";
  const out: KubeObject = {
    apiVersion: "events.k8s.io/v1", kind: "Event",
    ...(ev.metadata !== undefined ? { metadata: ev.metadata } : {}),
    ...(eventTime !== undefined ? { eventTime } : {}),
    reportingController: str(ev["reportingComponent"]) ?? "",
    reportingInstance: str(ev["reportingInstance"]) ?? "",
    action: str(ev["action"]) ?? reason,
    reason,
    regarding: ev["involvedObject"],
    note: ev["message"],
    type: ev["type"],
  };
  const copy: Array<[string, string]> = [
    ["related", "related"], ["series", "series"], ["source", "deprecatedSource"],
    ["firstTimestamp", "deprecatedFirstTimestamp"], ["lastTimestamp", "deprecatedLastTimestamp"], ["count", "deprecatedCount"],
  ];
  for (const [from, to] of copy) if (ev[from] !== undefined) out[to] = ev[from];
  return out;
}

/** A core/v1 merge patch of an Event in events.k8s.io/v1 field names. */
export function patchToEventsV1(patch: Record<string, unknown>): Record<string, unknown> {
  const names: Record<string, string> = { message: "note", count: "deprecatedCount", lastTimestamp: "deprecatedLastTimestamp", firstTimestamp: "deprecatedFirstTimestamp" };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) out[names[k] ?? k] = v;
  return out;
}

/** `EventSink` over the client: core/v1 Events (default) or events.k8s.io/v1 Events. */
export function clientEventSink(client: Client, apiVersion: EventApiVersion = "v1"): EventSink {
  // One retry layer: the broadcaster's queue retries 429/5xx with its own bounded backoff, so the
  // client does not also wait out Retry-After up to 10 times per attempt (under overload the two
  // layers multiplied into tens of writes per Event).
  const events = client.withRetries(0).resourceFor(apiVersion, "Event");
  const v1 = apiVersion === "events.k8s.io/v1";
  return {
    create: (ev) => events.create(v1 ? toEventsV1(ev) : ev),
    patch: (ns, name, patch) => events.namespace(ns).patch(name, v1 ? patchToEventsV1(patch) : patch, "merge"),
  };
}

/**
 * One write: a create, or a patch that turns into a create of the full state when the Event is
 * gone (404). A create answered 409 (an earlier attempt did land) becomes the patch, when there is one.
 */
export async function writeEvent(sink: EventSink, w: EventWrite): Promise<WriteOutcome> {
  const md = w.event.metadata ?? {};
  const ns = md.namespace ?? "default";
  const name = md.name ?? "";
  if (w.create || w.patch === undefined) {
    try {
      await sink.create(w.event);
      return "created";
    } catch (e) {
      if (!(isApiError(e) && e.code === 409) || w.patch === undefined) throw e;
      await sink.patch(ns, name, w.patch);
      return "patched";
    }
  }
  try {
    await sink.patch(ns, name, w.patch);
    return "patched";
  } catch (e) {
    if (!(isApiError(e) && e.code === 404)) throw e;
    const { resourceVersion: _rv, ...meta } = md;
    void _rv;
    await sink.create({ ...w.event, metadata: meta });
    return "created";
  }
}
