import { describe, expect, it } from "vitest";
import { normalizeImage } from "../../runtime/image.ts";
import { type HollowRule, type Program, ProgramResolver } from "./program.ts";
import { parseScript } from "./shell.ts";

const resolve = (image: string, command?: string[], args?: string[], rules: HollowRule[] = []): Program =>
  new ProgramResolver(rules).resolve({ image, normalizedImage: normalizeImage(image), ...(command ? { command } : {}), ...(args ? { args } : {}) });

describe("hollow shell parsing", () => {
  it("splits statements, connectors, quotes and redirections", () => {
    expect(parseScript(`echo 'a b' "c\\"d" e\\ f >&2 && exit 3 || true; sleep 1`)).toEqual([
      { argv: ["echo", "a b", 'c"d', "e f"], toStderr: true, connector: ";" },
      { argv: ["exit", "3"], toStderr: false, connector: "&&" },
      { argv: ["true"], toStderr: false, connector: "||" },
      { argv: ["sleep", "1"], toStderr: false, connector: ";" },
    ]);
    expect(parseScript("trap '' TERM")[0]!.argv).toEqual(["trap", "", "TERM"]);
  });
  it.each([
    ["echo 'open", /unterminated single quote/],
    ['echo "open', /unterminated double quote/],
    ["&& true", /syntax error/],
    ["true &&", /at the end/],
    ["echo a | cat", /pipes/],
    ["sleep 1 &", /background/],
  ])("rejects %j", (script, why) => {
    expect(() => parseScript(script)).toThrow(why);
  });
});

describe("hollow programs", () => {
  it("runs unknown images forever and exits 0 on SIGTERM (a server)", () => {
    const p = resolve("nginx:1.25");
    expect(p.steps).toEqual([{ op: "sleep", ms: Infinity }]);
    expect(p.termExitCode).toBe(0);
    expect(resolve("nginx", ["nginx", "-g", "daemon off;"]).steps).toEqual([{ op: "sleep", ms: Infinity }]);
  });
  it.each([
    ["hollow/exit:3", [{ op: "exit", code: 3 }]],
    ["hollow/exit", [{ op: "exit", code: 0 }]],
    ["hollow/run:250", [{ op: "sleep", ms: 250 }, { op: "exit", code: 0 }]],
    ["hollow/crash:50", [{ op: "sleep", ms: 50 }, { op: "out", stream: "stderr", text: "hollow: crashing" }, { op: "exit", code: 1 }]],
    ["hollow/oom:10", [{ op: "sleep", ms: 10 }, { op: "exit", code: 137, oomKilled: true }]],
    ["hollow/ticker:5", [{ op: "out", stream: "stdout", text: "tick" }, { op: "sleep", ms: 5 }, { op: "loop" }]],
    ["hollow/lines:2", [{ op: "out", stream: "stdout", text: "line 0" }, { op: "out", stream: "stdout", text: "line 1" }, { op: "exit", code: 0 }]],
  ])("built-in image %s", (image, steps) => {
    expect(resolve(image).steps).toEqual(steps);
  });
  it("built-in stop behaviours", () => {
    expect(resolve("hollow/ignore-term").ignoreTerm).toBe(true);
    expect(resolve("hollow/slow-stop:700").termDelayMs).toBe(700);
    expect(resolve("hollow/cannot-run").cannotRun).toMatch(/could not be started/);
    expect(resolve("example.com/hollow/exit:9").steps).toEqual([{ op: "exit", code: 9 }]);
  });
  it("compiles sh -c scripts with static && / ||", () => {
    expect(resolve("busybox", ["sh", "-c", "echo a; false && echo no || echo yes >&2; exit 4"]).steps).toEqual([
      { op: "out", stream: "stdout", text: "a" },
      { op: "out", stream: "stderr", text: "yes" },
      { op: "exit", code: 4 },
    ]);
    const p = resolve("busybox", ["/bin/sh", "-c", "trap '' TERM; sleep 2; nosuch"]);
    expect(p.ignoreTerm).toBe(true);
    expect(p.termExitCode).toBe(143);
    expect(p.steps).toEqual([{ op: "sleep", ms: 2000 }, { op: "out", stream: "stderr", text: "sh: nosuch: not found" }, { op: "exit", code: 127 }]);
    expect(resolve("busybox", ["sh", "-c", "echo 'x"]).steps.at(-1)).toEqual({ op: "exit", code: 2 });
    expect(resolve("busybox", ["sh", "-c", "exit abc"]).steps.at(-1)).toEqual({ op: "exit", code: 2 });
  });
  it("runs builtin commands and busybox-style args", () => {
    expect(resolve("busybox", ["sleep", "1.5"]).steps).toEqual([{ op: "sleep", ms: 1500 }, { op: "exit", code: 0 }]);
    expect(resolve("busybox", ["false"]).steps).toEqual([{ op: "exit", code: 1 }]);
    expect(resolve("busybox", undefined, ["sh", "-c", "exit 7"]).steps).toEqual([{ op: "exit", code: 7 }]);
    // A command replaces a hollow image's behaviour, args alone do not.
    expect(resolve("hollow/crash", ["sleep", "infinity"]).steps).toEqual([{ op: "sleep", ms: Infinity }]);
    expect(resolve("hollow/exit:2", undefined, ["whatever"]).steps).toEqual([{ op: "exit", code: 2 }]);
  });
  it("applies user rules first, by image and command glob", () => {
    const rules: HollowRule[] = [
      { image: "docker.io/library/redis:*", behavior: { runMs: 100, exitCode: 5, output: ["ready"] } },
      { command: "python *", behavior: { oomKilled: true, runMs: 0 } },
      { image: "slow", behavior: { startLatencyMs: 900, stopDelayMs: 50, stopExitCode: 3 } },
    ];
    expect(resolve("redis:7", undefined, undefined, rules).steps).toEqual([
      { op: "out", stream: "stdout", text: "ready" },
      { op: "sleep", ms: 100 },
      { op: "exit", code: 5 },
    ]);
    expect(resolve("busybox", ["python", "x.py"], undefined, rules).steps).toEqual([{ op: "exit", code: 137, oomKilled: true }]);
    const slow = resolve("slow", undefined, undefined, rules);
    expect(slow).toMatchObject({ startLatencyMs: 900, termDelayMs: 50, termExitCode: 3 });
  });
  it("caches programs per input", () => {
    const r = new ProgramResolver();
    const input = { image: "hollow/run:5", normalizedImage: normalizeImage("hollow/run:5") };
    expect(r.resolve(input)).toBe(r.resolve({ ...input }));
  });
});

describe("hollow pull verdicts", () => {
  const r = new ProgramResolver([{ image: "private/*", behavior: { failPull: "unauthorized: authentication required" } }]);
  const verdict = (image: string) => r.pullVerdict(image, normalizeImage(image));
  it("fails hollow/fail-pull, unknown hollow kinds and bad parameters; user rules too", () => {
    expect(verdict("hollow/fail-pull")).toMatchObject({ ok: false, message: expect.stringMatching(/not found/) });
    expect(verdict("hollow/nope")).toMatchObject({ ok: false, message: expect.stringMatching(/unknown hollow image kind "nope"/) });
    expect(verdict("hollow/exit:300")).toMatchObject({ ok: false, message: expect.stringMatching(/exit code 0-255/) });
    expect(verdict("hollow/lines:100001")).toMatchObject({ ok: false });
    expect(verdict("hollow/ticker:0")).toMatchObject({ ok: false, message: expect.stringMatching(/> 0/) });
    expect(verdict("private/app")).toEqual({ ok: false, message: "unauthorized: authentication required" });
    expect(verdict("nginx")).toEqual({ ok: true });
    expect(verdict("hollow/crash:10")).toEqual({ ok: true });
  });
});
