import { describe, expect, it } from "vitest";
import { selectComponents } from "./components.ts";

describe("selectComponents", () => {
  it("runs every component by default", () => {
    expect([...selectComponents([])]).toEqual(["apiserver", "controller-manager", "scheduler", "agent"]);
    expect([...selectComponents(["controller-manager"])]).toEqual(["apiserver", "scheduler", "agent"]);
    expect([...selectComponents(["scheduler,controller-manager"])]).toEqual(["apiserver", "agent"]);
  });
  it("rejects unknown and required components", () => {
    expect(() => selectComponents(["schedulr"])).toThrow('unknown component "schedulr" in --disable (known: apiserver, controller-manager, scheduler, agent)');
    expect(() => selectComponents(["apiserver"])).toThrow('component "apiserver" is required and cannot be disabled');
  });
});
