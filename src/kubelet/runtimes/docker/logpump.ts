/**
 * Container output from Docker into the CRI log file kubectl reads.
 *
 * Docker keeps each container's output in its own json-file log; the runtime follows it
 * (`GET /containers/{id}/logs?follow&timestamps`) and writes every message, with Docker's
 * timestamp, through the shared `CriLogWriter` (CRI format, rotation). Following Docker's log rather
 * than attaching means nothing is lost while the agent is down: a new client resumes each running
 * container's pump after the last record already in the CRI file (`readResumePoint`), skipping
 * what it wrote before (records with an earlier timestamp, and as many as are already there with
 * the same one).
 *
 * The pump ends when Docker ends the stream (the container exited and all output was delivered),
 * so "EXITED and the log complete" can be awaited (`done`).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Readable } from "node:stream";
import { CriLogWriter, formatCriTimestamp, type LogRotation, type LogStream, parseCriRecord } from "../../runtime/logs.ts";
import { dockerTimeMs } from "./mapping.ts";

export interface Frame {
  readonly stream: LogStream;
  readonly payload: Uint8Array;
}

/**
 * Splits Docker's multiplexed stream (8-byte header: stream byte, 3 zero bytes, big-endian
 * length; then the payload) into frames. Stream 0 (stdin echo) counts as stdout. Chunks may cut
 * headers and payloads anywhere.
 */
export class FrameDemuxer {
  #buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    let buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    const out: Frame[] = [];
    for (;;) {
      if (buf.length < 8) break;
      const type = buf[0]!;
      const len = ((buf[4]! << 24) >>> 0) + (buf[5]! << 16) + (buf[6]! << 8) + buf[7]!;
      if (buf.length < 8 + len) break;
      out.push({ stream: type === 2 ? "stderr" : "stdout", payload: buf.slice(8, 8 + len) });
      buf = buf.subarray(8 + len);
    }
    this.#buf = buf.slice();
    return out;
  }

  /** Bytes of an incomplete frame still held. */
  get pending(): number {
    return this.#buf.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Splits `<RFC3339Nano> <content>` (a message of Docker's timestamped log). */
export function splitTimestamp(payload: Uint8Array): { timeMs: number; content: Uint8Array } | undefined {
  const sp = payload.indexOf(0x20);
  if (sp <= 0 || sp > 40) return undefined;
  const timeMs = dockerTimeMs(new TextDecoder().decode(payload.subarray(0, sp)));
  if (timeMs === undefined) return undefined;
  return { timeMs, content: payload.subarray(sp + 1) };
}

/** Where a resumed pump continues: after `skip` records stamped `time` (the CRI file's last ones). */
export interface ResumePoint {
  readonly time: string;
  readonly timeMs: number;
  readonly skip: number;
}

/** Reads the tail of a CRI log file for the resume point; `undefined` when the file is absent or empty. */
export function readResumePoint(path: string, tailBytes = 64 * 1024): ResumePoint | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - tailBytes);
    const buf = new Uint8Array(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines: Uint8Array[] = [];
    let from = 0;
    for (let i = 0; i < buf.length; i++) {
      if (buf[i] === 0x0a) {
        lines.push(buf.subarray(from, i));
        from = i + 1;
      }
    }
    if (start > 0) lines.shift(); // the first one may be cut
    let time: string | undefined;
    let timeMs = 0;
    let skip = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      let rec;
      try {
        rec = parseCriRecord(lines[i]!);
      } catch {
        continue;
      }
      if (time === undefined) {
        time = rec.time;
        timeMs = rec.timeMs;
      }
      if (rec.time !== time) break;
      skip++;
    }
    return time === undefined ? undefined : { time, timeMs, skip };
  } finally {
    closeSync(fd);
  }
}

/** Docker's `since` (seconds with a fraction, inclusive) a little before the resume point. */
export function sinceOf(p: ResumePoint): string {
  return (Math.max(0, Math.floor(p.timeMs) - 1) / 1000).toFixed(3);
}

/**
 * Writes Docker log messages to a CRI file. `accept` decides per message whether it is new
 * (resume dedupe); the writer stamps records with the message's Docker time.
 */
export class CriSink {
  readonly #writer: CriLogWriter;
  #nowMs = 0;
  #resume: ResumePoint | undefined;
  #skipped = 0;

  constructor(path: string, rotation: LogRotation, resume?: ResumePoint) {
    this.#writer = new CriLogWriter(path, { ...rotation, now: () => this.#nowMs });
    this.#resume = resume;
  }

  /** One Docker message (timestamp prefix included). */
  message(stream: LogStream, payload: Uint8Array): void {
    const m = splitTimestamp(payload);
    const timeMs = m?.timeMs ?? Date.now();
    const content = m?.content ?? payload;
    const r = this.#resume;
    if (r !== undefined) {
      const t = formatCriTimestamp(timeMs);
      if (t < r.time) return;
      if (t === r.time && this.#skipped < r.skip) {
        this.#skipped++;
        return;
      }
      if (t > r.time) this.#resume = undefined;
    }
    this.#nowMs = timeMs;
    this.#writer.write(stream, content);
  }

  close(): void {
    this.#writer.close();
  }
}

/**
 * Pumps one container's Docker log stream into `sink` until the stream ends or `stop()`.
 * `tty` containers have a raw (not multiplexed) stream: everything is stdout, one message per line.
 */
export class LogPump {
  readonly done: Promise<void>;
  readonly #stream: Readable;

  constructor(stream: Readable, sink: CriSink, tty: boolean) {
    this.#stream = stream;
    const demux = new FrameDemuxer();
    let rawRest: Uint8Array = new Uint8Array(0);
    this.done = new Promise<void>((resolve) => {
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        try {
          if (tty && rawRest.length > 0) sink.message("stdout", rawRest);
          sink.close();
        } catch {
          // A log directory removed under us: nothing more to write.
        }
        resolve();
      };
      stream.on("data", (chunk: Buffer) => {
        try {
          if (tty) {
            let data = rawRest.length > 0 ? concat(rawRest, chunk) : new Uint8Array(chunk);
            for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
              sink.message("stdout", data.subarray(0, nl + 1));
              data = data.subarray(nl + 1);
            }
            rawRest = data.slice();
          } else {
            for (const f of demux.push(chunk)) sink.message(f.stream, f.payload);
          }
        } catch {
          stream.destroy();
        }
      });
      stream.on("end", finish);
      stream.on("close", finish);
      stream.on("error", finish);
    });
  }

  /** Stops following (the agent is going away); what arrived so far is flushed. */
  stop(): void {
    this.#stream.destroy();
  }
}
