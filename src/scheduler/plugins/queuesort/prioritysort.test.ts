import { describe, expect, it } from "vitest";
import type { QueuedPodInfo } from "../../framework/interface.ts";
import { makePod } from "../../testing.ts";
import { newPodInfo } from "../../types.ts";
import { NAME, newPrioritySort } from "./prioritysort.ts";

const q = (name: string, priority: number, timestamp: number, seq: number): QueuedPodInfo => ({
  info: newPodInfo(makePod(name, { priority }), []), timestamp, seq, attempts: 0, initialAttemptTimestamp: undefined, unschedulablePlugins: new Set(), gatedBy: undefined,
});

describe(NAME, () => {
  const cases = [
    { name: "higher priority first", a: q("a", 10, 5, 1), b: q("b", 1, 0, 0), want: true },
    { name: "equal priority: earlier timestamp first", a: q("a", 1, 0, 1), b: q("b", 1, 5, 0), want: true },
    { name: "equal priority and time: arrival order", a: q("a", 1, 0, 2), b: q("b", 1, 0, 1), want: false },
  ];
  for (const c of cases) it(c.name, () => expect(newPrioritySort().less(c.a, c.b)).toBe(c.want));
});
