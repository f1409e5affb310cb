import { describe, expect, it } from "vitest";
import { parseRemoteCommandOptions } from "./options.ts";
import { ResizeDecoder } from "./resize.ts";
import { encodeStatusJson, encodeStatusText, exitCodeStatus, internalErrorStatus, statusEncoderFor, successStatus } from "./status.ts";

const str = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("error-stream status", () => {
  it("success is the exact bytes kubelet sends (logs 18/19/43)", () => {
    expect(Buffer.from(encodeStatusJson(successStatus())).toString("hex")).toBe(
      "7b226d65746164617461223a7b7d2c22737461747573223a2253756363657373227d",
    );
  });

  it("a non-zero exit carries NonZeroExitCode and an ExitCode cause", () => {
    expect(str(encodeStatusJson(exitCodeStatus(3, ["sh", "-c", "exit 3"])))).toBe(
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
    );
  });

  it("an internal error is a 500 InternalError", () => {
    expect(str(encodeStatusJson(internalErrorStatus("exec", new Error("boom"))))).toBe(
      '{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: boom","reason":"InternalError","details":{"causes":[{"message":"error executing command in container: boom"}]},"code":500}',
    );
    expect(internalErrorStatus("attach", new Error("x")).message).toBe("Internal error occurred: error attaching to container: x");
  });

  it("v1-v3 send the message as text and nothing on success", () => {
    expect(encodeStatusText(successStatus())).toBeUndefined();
    expect(str(encodeStatusText(exitCodeStatus(1, ["false"])))).toMatch(/^command terminated with non-zero exit code/);
    expect(statusEncoderFor("v5.channel.k8s.io")).toBe(encodeStatusJson);
    expect(statusEncoderFor("v4.channel.k8s.io")).toBe(encodeStatusJson);
    expect(statusEncoderFor("v3.channel.k8s.io")).toBe(encodeStatusText);
    expect(statusEncoderFor("channel.k8s.io")).toBe(encodeStatusText);
  });
});

describe("exec/attach options", () => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);

  it("reads kubectl's exec query (log 18) and attach query (log 43)", () => {
    expect(parseRemoteCommandOptions(q("command=echo&command=hi&container=main&stderr=true&stdout=true"), "exec")).toEqual({
      command: ["echo", "hi"],
      container: "main",
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(parseRemoteCommandOptions(q("container=main&stderr=true&stdout=true"), "attach")).toMatchObject({ command: [], stdout: true });
  });

  it("drops stderr with a tty", () => {
    expect(parseRemoteCommandOptions(q("command=sh&stdin=1&stdout=1&stderr=1&tty=1"), "exec")).toMatchObject({ stderr: false, tty: true });
  });

  it("rejects bad input with a message", () => {
    expect(parseRemoteCommandOptions(q("command=sh"), "exec")).toEqual({ error: "you must specify at least 1 of stdin, stdout, stderr" });
    expect(parseRemoteCommandOptions(q("stdout=true"), "exec")).toEqual({ error: "you must specify at least one command for the container" });
    expect(parseRemoteCommandOptions(q("command=sh&stdout=yes"), "exec")).toEqual({ error: 'invalid value for stdout: "yes": must be a boolean' });
  });
});

describe("ResizeDecoder", () => {
  it("decodes kubectl's resize message (log 19b), split and back to back", () => {
    const d = new ResizeDecoder();
    const bytes = new TextEncoder().encode('{"Width":100,"Height":30}\n{"Width":80,"Height":24}\n');
    expect(d.push(bytes.subarray(0, 10))).toEqual([]);
    expect(d.push(bytes.subarray(10))).toEqual([{ width: 100, height: 30 }, { width: 80, height: 24 }]);
    expect(new ResizeDecoder().push(new TextEncoder().encode('{"Height":5}'))).toEqual([{ width: 0, height: 5 }]);
  });

  it("stops at malformed input", () => {
    for (const bad of ['[1,2]', '{"Width":"x"}', '{"Width":-1}', '{"Width":1e9}', 'nope', '{"Width":1,}']) {
      const d = new ResizeDecoder();
      expect(d.push(new TextEncoder().encode(bad)), bad).toEqual([]);
      expect(d.failed, bad).toBe(true);
      expect(d.push(new TextEncoder().encode('{"Width":1,"Height":1}'))).toEqual([]);
    }
  });
});
