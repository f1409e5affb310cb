/**
 * Event recording for controllers: the `EventRecorder` port they call (core/v1 Events about the
 * objects they act on), a thin adapter over the shared event library (src/client/events/:
 * aggregation, count patches, spam filter, bounded non-blocking queue), the `ObjectWriter`-backed
 * sink the controller-manager uses, and `FakeRecorder` for tests.
 */
import type { KubeObject } from "../../api/object.ts";
import type { EventBroadcaster, EventSink, EventType } from "../../client/events/mod.ts";
import { referenceOf } from "../../client/events/mod.ts";
import { EVENTS } from "./resources.ts";
import type { ObjectWriter } from "./writer.ts";

export { referenceOf, type EventType, type ObjectReference } from "../../client/events/mod.ts";

/** What controllers call. Never throws and never waits. */
export interface EventRecorder {
  event(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

/** A recorder for controller `component` (e.g. "replicaset-controller") on a shared broadcaster. */
export function controllerEventRecorder(broadcaster: EventBroadcaster, component: string): EventRecorder {
  const rec = broadcaster.newRecorder({ component });
  return { event: (obj, type, reason, message) => rec.event(referenceOf(obj), type, reason, message) };
}

/** Events through the controllers' `ObjectWriter` (so a test writer sees them too). */
export function writerEventSink(writer: ObjectWriter): EventSink {
  return {
    create: (ev) => writer.create(EVENTS, ev),
    patch: (ns, name, patch) => writer.patch(EVENTS, ns, name, patch, "merge"),
  };
}

/** Collects events as `"<type> <reason> <message>"` (upstream FakeRecorder's shape). */
export class FakeRecorder implements EventRecorder {
  readonly events: string[] = [];
  readonly objects: KubeObject[] = [];
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push(`${type} ${reason} ${message}`);
    this.objects.push(obj);
  }
}
