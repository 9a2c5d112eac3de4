import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SpoolOptions {
  /** Text held in memory (characters) before every bucket goes to its own temporary file. */
  readonly memoryLimit?: number;
  /** Bytes each bucket gathers before writing to its file. */
  readonly bufferBytes?: number;
  /** Where temporary directories are made (default: the system's). */
  readonly tmpdir?: string;
}

const DEFAULT_MEMORY_LIMIT = 1024 * 1024;
const DEFAULT_BUFFER_BYTES = 64 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** A bucket once on disk: its file, and a fixed buffer that fills before each write. */
interface SpilledBucket {
  readonly file: string;
  readonly fd: number;
  readonly buffer: Buffer;
  used: number;
}

/**
 * Output that must come out in an order known only at the end (findings most severe first),
 * without holding it: text is appended to named buckets, in memory while it is small, then in
 * one temporary file per bucket through a fixed buffer each, so the text is copied out at once
 * and memory stays the same however much is written. drain() writes the buckets in the order
 * asked, in chunks.
 */
export class Spool {
  readonly #limit: number;
  readonly #bufferBytes: number;
  readonly #tmpdir: string;
  readonly #memory = new Map<string, string[]>();
  readonly #disk = new Map<string, SpilledBucket>();
  #held = 0;
  #dir: string | undefined;
  #spilled = 0;

  constructor(options: SpoolOptions = {}) {
    this.#limit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    this.#bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.#tmpdir = options.tmpdir ?? tmpdir();
  }

  /** Bytes written to temporary files so far (0 while everything fits in memory). */
  get spilled(): number {
    return this.#spilled;
  }

  /** Appends text to a bucket. */
  add(bucket: string, text: string): void {
    if (this.#dir !== undefined) return this.#append(this.#spilledBucket(bucket), text);
    const texts = this.#memory.get(bucket);
    if (texts) texts.push(text);
    else this.#memory.set(bucket, [text]);
    this.#held += text.length;
    if (this.#held > this.#limit) this.#spill();
  }

  /** Writes every bucket named in `order`, in that order, each as it was appended, through `write` (awaited per chunk). */
  async drain(order: readonly string[], write: (chunk: string) => Promise<void>): Promise<void> {
    for (const bucket of order) {
      const spilled = this.#disk.get(bucket);
      if (spilled) {
        this.#flush(spilled);
        for await (const chunk of createReadStream(spilled.file, { encoding: "utf8", highWaterMark: READ_CHUNK_BYTES })) await write(chunk as string);
      }
      const texts = this.#memory.get(bucket);
      if (texts?.length) await write(texts.join(""));
    }
  }

  /** Removes the temporary files. */
  dispose(): void {
    for (const bucket of this.#disk.values()) closeSync(bucket.fd);
    this.#disk.clear();
    this.#memory.clear();
    this.#held = 0;
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    process.removeListener("exit", this.#onExit);
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.removeListener(signal, this.#onSignal);
  }

  // From now on every bucket lives in a file; what memory held goes there first, in order.
  #spill(): void {
    this.#dir = mkdtempSync(join(this.#tmpdir, "grantguard-spool-"));
    // An interrupted run leaves nothing behind: the files go with the process.
    process.once("exit", this.#onExit);
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, this.#onSignal);
    for (const [bucket, texts] of this.#memory) {
      const spilled = this.#spilledBucket(bucket);
      for (const text of texts) this.#append(spilled, text);
    }
    this.#memory.clear();
    this.#held = 0;
  }

  #spilledBucket(bucket: string): SpilledBucket {
    let spilled = this.#disk.get(bucket);
    if (!spilled) {
      const file = join(this.#dir!, `${this.#disk.size}.part`);
      spilled = { file, fd: openSync(file, "a"), buffer: Buffer.allocUnsafe(this.#bufferBytes), used: 0 };
      this.#disk.set(bucket, spilled);
    }
    return spilled;
  }

  #append(bucket: SpilledBucket, text: string): void {
    // A character takes at most three bytes in UTF-8 (four for a surrogate pair of two).
    if (text.length * 3 > bucket.buffer.length - bucket.used) this.#flush(bucket);
    if (text.length * 3 > bucket.buffer.length) {
      this.#spilled += writeSync(bucket.fd, text);
      return;
    }
    bucket.used += bucket.buffer.write(text, bucket.used);
  }

  #flush(bucket: SpilledBucket): void {
    let offset = 0;
    while (offset < bucket.used) offset += writeSync(bucket.fd, bucket.buffer, offset, bucket.used - offset);
    this.#spilled += bucket.used;
    bucket.used = 0;
  }

  readonly #onExit = () => this.dispose();

  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.dispose();
    process.kill(process.pid, signal);
  };
}
