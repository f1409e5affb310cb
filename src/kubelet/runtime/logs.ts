/**
 * Container logs in the CRI format, shared by every runtime (writing) and the kubelet (reading).
 *
 * One record per line: `<RFC3339Nano time> <stdout|stderr> <F|P> <content>\n`. `F` ends a line of the
 * container's output; `P` is a piece of a longer line continued by the next record of the same
 * stream (written when a line exceeds `maxLineBytes`, or when output ends without a newline).
 * Example: `2026-11-22T10:00:00.123000000Z stdout F hello`.
 *
 * Rotation: when a record would push the file past `maxBytes`, the file is renamed to `<path>.1`
 * (older ones shift to `.2` … `.<maxFiles-1>`, the oldest is deleted) and a new file is started. So
 * at most `maxFiles` files exist, each at most `maxBytes` (unless a single record is larger).
 * Readers read `<path>` only (as kubectl logs does); a follower moves on to the new file after a rotation.
 *
 * Writes are synchronous appends: records reach the file in order, a follower sees whole records,
 * and a test can read right after writing.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export type LogStream = "stdout" | "stderr";

export interface CriLogRecord {
  /** The timestamp as written in the file. */
  readonly time: string;
  /** The same time in epoch milliseconds (sub-millisecond digits as a fraction). */
  readonly timeMs: number;
  readonly stream: LogStream;
  /** `P` records: the line continues in the next record of the stream. */
  readonly partial: boolean;
  /** The bytes of the line, without the newline. */
  readonly content: Uint8Array;
}

export interface LogRotation {
  /** Rotate before a file would exceed this many bytes (> 0; default 10 MiB, the kubelet's containerLogMaxSize). */
  readonly maxBytes?: number;
  /** Files kept including the live one (>= 1; default 5, the kubelet's containerLogMaxFiles). */
  readonly maxFiles?: number;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;
/** Lines longer than this are split into P records (containerd's default is 16 KiB). */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder();
const NL = 0x0a;

function resolveRotation(r: LogRotation | undefined): { maxBytes: number; maxFiles: number } {
  const maxBytes = r?.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const maxFiles = r?.maxFiles ?? DEFAULT_LOG_MAX_FILES;
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) throw new RangeError(`log rotation maxBytes must be a positive integer, got ${maxBytes}`);
  if (!(Number.isInteger(maxFiles) && maxFiles >= 1)) throw new RangeError(`log rotation maxFiles must be an integer >= 1, got ${maxFiles}`);
  return { maxBytes, maxFiles };
}

/** RFC 3339 with nine fractional digits in UTC, e.g. `2026-11-22T10:00:00.123456000Z`. */
export function formatCriTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2026-11-22T10:00:00.123Z
  const subMsNanos = Math.round((ms - whole) * 1e6);
  return `${iso.slice(0, 23)}${String(Math.min(subMsNanos, 999_999)).padStart(6, "0")}Z`;
}

const TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch milliseconds of an RFC 3339 timestamp (nanosecond precision kept as a fraction); NaN if malformed. */
export function parseCriTimestamp(s: string): number {
  const m = TS.exec(s);
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ?? "";
  return base + (frac === "" ? 0 : Number(frac.padEnd(9, "0")) / 1e6);
}

/** One encoded record, newline included. */
export function encodeCriRecord(timeMs: number, stream: LogStream, partial: boolean, content: Uint8Array | string): Uint8Array {
  const head = enc.encode(`${formatCriTimestamp(timeMs)} ${stream} ${partial ? "P" : "F"} `);
  const body = typeof content === "string" ? enc.encode(content) : content;
  const out = new Uint8Array(head.length + body.length + 1);
  out.set(head, 0);
  out.set(body, head.length);
  out[out.length - 1] = NL;
  return out;
}

/** Parses one line (without its newline). Throws `SyntaxError` naming the problem. */
export function parseCriRecord(line: Uint8Array): CriLogRecord {
  const sp1 = line.indexOf(0x20);
  const sp2 = sp1 < 0 ? -1 : line.indexOf(0x20, sp1 + 1);
  const sp3 = sp2 < 0 ? -1 : line.indexOf(0x20, sp2 + 1);
  const tagEnd = sp3 < 0 ? line.length : sp3;
  if (sp1 <= 0 || sp2 < 0) throw new SyntaxError(`CRI log line lacks "<time> <stream> <tag>": ${JSON.stringify(dec.decode(line.subarray(0, 80)))}`);
  const time = dec.decode(line.subarray(0, sp1));
  const timeMs = parseCriTimestamp(time);
  if (Number.isNaN(timeMs)) throw new SyntaxError(`CRI log line has a bad timestamp "${time}"`);
  const stream = dec.decode(line.subarray(sp1 + 1, sp2));
  if (stream !== "stdout" && stream !== "stderr") throw new SyntaxError(`CRI log line has a bad stream "${stream}"`);
  // The tag may carry more flags separated by ':' (e.g. "F:x"); only the first is defined.
  const tag = dec.decode(line.subarray(sp2 + 1, tagEnd)).split(":")[0];
  if (tag !== "F" && tag !== "P") throw new SyntaxError(`CRI log line has a bad tag "${tag}"`);
  return { time, timeMs, stream, partial: tag === "P", content: sp3 < 0 ? new Uint8Array(0) : line.slice(sp3 + 1) };
}

/** Renames `<path>` to `<path>.1`, shifting older files and dropping the one beyond `maxFiles`. */
function rotateFiles(path: string, maxFiles: number): void {
  if (maxFiles <= 1) {
    rmSync(path, { force: true });
    return;
  }
  rmSync(`${path}.${maxFiles - 1}`, { force: true });
  for (let i = maxFiles - 2; i >= 1; i--) {
    try {
      renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  renameSync(path, `${path}.1`);
}

/** Opens `path` for appending (creating its directory), returning the fd and the current size. */
function openForAppend(path: string): { fd: number; size: number } {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a");
  return { fd, size: fstatSync(fd).size };
}

/**
 * A long-lived writer for one container's log (docker and process runtimes pipe output into it).
 * `write` splits chunks into lines per stream; `close` flushes unterminated lines as `F` records.
 */
export class CriLogWriter {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #maxLine: number;
  readonly #now: () => number;
  #fd: number;
  #size: number;
  readonly #pending: Record<LogStream, Uint8Array[]> = { stdout: [], stderr: [] };
  readonly #pendingLen: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  #closed = false;

  constructor(path: string, opts: LogRotation & { now?: () => number; maxLineBytes?: number } = {}) {
    const r = resolveRotation(opts);
    this.path = path;
    this.#maxBytes = r.maxBytes;
    this.#maxFiles = r.maxFiles;
    this.#maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!(Number.isInteger(this.#maxLine) && this.#maxLine > 0)) throw new RangeError(`maxLineBytes must be a positive integer, got ${this.#maxLine}`);
    this.#now = opts.now ?? Date.now;
    const o = openForAppend(path);
    this.#fd = o.fd;
    this.#size = o.size;
  }

  /** Appends output of `stream`; complete lines are written at once, a trailing piece waits for its newline. */
  write(stream: LogStream, chunk: Uint8Array | string): void {
    if (this.#closed) throw new Error(`CriLogWriter(${this.path}) is closed`);
    let data = typeof chunk === "string" ? enc.encode(chunk) : chunk;
    for (;;) {
      const nl = data.indexOf(NL);
      if (nl < 0) break;
      this.#emitLine(stream, data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    if (data.length > 0) {
      this.#pending[stream].push(data.slice());
      this.#pendingLen[stream] += data.length;
      if (this.#pendingLen[stream] >= this.#maxLine) this.#emitPending(stream, true);
    }
  }

  /** Writes the given records as they are (already split into lines by the caller). */
  writeRecord(stream: LogStream, content: Uint8Array | string, partial = false, timeMs = this.#now()): void {
    if (this.#closed) throw new Error(`CriLogWriter(${this.path}) is closed`);
    this.#append(encodeCriRecord(timeMs, stream, partial, content));
  }

  /** Flushes unterminated output as F records and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#emitPending("stdout", false);
    this.#emitPending("stderr", false);
    this.#closed = true;
    closeSync(this.#fd);
  }

  #emitPending(stream: LogStream, partial: boolean): void {
    if (this.#pendingLen[stream] === 0) return;
    const parts = this.#pending[stream];
    const all = new Uint8Array(this.#pendingLen[stream]);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    this.#pending[stream] = [];
    this.#pendingLen[stream] = 0;
    for (let i = 0; i < all.length; i += this.#maxLine) {
      const end = Math.min(all.length, i + this.#maxLine);
      this.#append(encodeCriRecord(this.#now(), stream, end < all.length || partial, all.subarray(i, end)));
    }
  }

  #emitLine(stream: LogStream, line: Uint8Array): void {
    if (this.#pendingLen[stream] > 0) {
      // Join the waiting piece with the rest of its line.
      this.#pending[stream].push(line.slice());
      this.#pendingLen[stream] += line.length;
      this.#emitPending(stream, false);
      return;
    }
    for (let i = 0; i < line.length || i === 0; i += this.#maxLine) {
      const end = Math.min(line.length, i + this.#maxLine);
      this.#append(encodeCriRecord(this.#now(), stream, end < line.length, line.subarray(i, end)));
      if (line.length === 0) break;
    }
  }

  #append(rec: Uint8Array): void {
    if (this.#size > 0 && this.#size + rec.length > this.#maxBytes) {
      closeSync(this.#fd);
      rotateFiles(this.path, this.#maxFiles);
      const o = openForAppend(this.path);
      this.#fd = o.fd;
      this.#size = o.size;
    }
    writeSync(this.#fd, rec);
    this.#size += rec.length;
  }
}

/** A record to append with `appendCriLog`: one line of output (no newline inside). */
export interface LogLine {
  readonly stream: LogStream;
  readonly text: string;
  readonly timeMs: number;
}

/**
 * Opens, appends whole lines, rotates as needed and closes: for runtimes that write a few lines
 * now and then (hollow) and must not hold a file descriptor per container.
 */
export function appendCriLog(path: string, lines: readonly LogLine[], rotation?: LogRotation): void {
  if (lines.length === 0) return;
  const r = resolveRotation(rotation);
  let { fd, size } = openForAppend(path);
  try {
    for (const l of lines) {
      const rec = encodeCriRecord(l.timeMs, l.stream, false, l.text.replaceAll("\n", " "));
      if (size > 0 && size + rec.length > r.maxBytes) {
        closeSync(fd);
        fd = -1;
        rotateFiles(path, r.maxFiles);
        ({ fd, size } = openForAppend(path));
      }
      writeSync(fd, rec);
      size += rec.length;
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface ReadLogOptions {
  /** Only the last N records (applied before `sinceMs`, as the kubelet does). */
  readonly tail?: number;
  /** Only records at or after this time (epoch ms). */
  readonly sinceMs?: number;
  /** One stream only. */
  readonly stream?: LogStream;
  /** Keep reading new records until `isDone` says the writer is finished or `signal` aborts. */
  readonly follow?: boolean;
  /** Follow: checked when no new data is there; true ends the stream after a final read (e.g. "container exited"). */
  readonly isDone?: () => boolean | Promise<boolean>;
  readonly signal?: AbortSignal;
  /** Follow: how long to wait between checks for new data (default 100 ms, real time). */
  readonly pollMs?: number;
  /** Follow: how to wait (default a real timer); tests may inject their own. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Reads from `fd` at `pos` to the current end. */
function readFrom(fd: number, pos: number): Uint8Array {
  const size = fstatSync(fd).size;
  if (size <= pos) return new Uint8Array(0);
  const buf = new Uint8Array(size - pos);
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, pos + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Splits complete lines off `data`; returns the records and the unterminated rest. Malformed lines are skipped. */
function splitRecords(data: Uint8Array): { records: CriLogRecord[]; rest: Uint8Array } {
  const records: CriLogRecord[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(NL, start);
    if (nl < 0) break;
    if (nl > start) {
      try {
        records.push(parseCriRecord(data.subarray(start, nl)));
      } catch {
        // A line some other writer garbled: skip it rather than end the whole stream.
      }
    }
    start = nl + 1;
  }
  return { records, rest: data.slice(start) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Records of the log at `path` in file order. Without `follow` a missing file yields nothing; with
 * it, the reader waits for the file to appear. Validation errors throw `RangeError` at the first `next()`.
 */
export async function* readCriLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<CriLogRecord> {
  if (opts.tail !== undefined && !(Number.isInteger(opts.tail) && opts.tail >= 0)) throw new RangeError(`tail must be a non-negative integer, got ${opts.tail}`);
  const pollMs = opts.pollMs ?? 100;
  if (!(pollMs > 0)) throw new RangeError(`pollMs must be > 0, got ${pollMs}`);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const keep = (r: CriLogRecord): boolean => (opts.stream === undefined || r.stream === opts.stream) && (opts.sinceMs === undefined || r.timeMs >= opts.sinceMs);

  let fd = -1;
  let ino = -1;
  let pos = 0;
  let rest: Uint8Array = new Uint8Array(0);
  const open = (): boolean => {
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    ino = fstatSync(fd).ino;
    pos = 0;
    rest = new Uint8Array(0);
    return true;
  };
  const drain = (): CriLogRecord[] => {
    const data = readFrom(fd, pos);
    pos += data.length;
    const s = splitRecords(concat(rest, data));
    rest = s.rest;
    return s.records;
  };

  try {
    if (open()) {
      let first = drain();
      if (opts.tail !== undefined) first = opts.tail === 0 ? [] : first.slice(-opts.tail);
      for (const r of first) if (keep(r)) yield r;
    }
    if (!opts.follow) return;
    for (;;) {
      if (opts.signal?.aborted) return;
      if (fd < 0) {
        if (!open()) {
          if (await opts.isDone?.()) return;
          await sleep(pollMs);
          continue;
        }
      }
      const got = drain();
      for (const r of got) if (keep(r)) yield r;
      if (got.length > 0) continue;
      // No new data: was the file rotated or truncated under us?
      let st: { ino: number; size: number } | undefined;
      try {
        st = statSync(path);
      } catch {
        st = undefined;
      }
      if (st === undefined || st.ino !== ino) {
        // Rotated (or removed): the old fd was drained above; continue with the new file.
        closeSync(fd);
        fd = -1;
        if (st !== undefined) continue;
      } else if (st.size < pos) {
        pos = 0;
        rest = new Uint8Array(0);
        continue;
      }
      if (await opts.isDone?.()) {
        if (fd >= 0) for (const r of drain()) if (keep(r)) yield r;
        return;
      }
      await sleep(pollMs);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * The bytes `kubectl logs` shows for a record: the content, a newline unless it is partial, and
 * with `timestamps` the record's time and a space in front.
 */
export function formatLogRecord(r: CriLogRecord, timestamps = false): Uint8Array {
  const prefix = timestamps ? enc.encode(`${r.time} `) : new Uint8Array(0);
  const out = new Uint8Array(prefix.length + r.content.length + (r.partial ? 0 : 1));
  out.set(prefix, 0);
  out.set(r.content, prefix.length);
  if (!r.partial) out[out.length - 1] = NL;
  return out;
}

/** Convenience for tests and small callers: the record's content as text. */
export function recordText(r: CriLogRecord): string {
  return dec.decode(r.content);
}
