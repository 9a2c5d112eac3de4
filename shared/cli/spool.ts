import { appendFileSync, createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SpoolOptions {
  /** Text held in memory before every bucket goes to its own temporary file (characters). */
  readonly memoryLimit?: number;
  /** Where temporary directories are made (default: the system's). */
  readonly tmpdir?: string;
}

const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;

/**
 * Output that must come out in an order only known at the end (findings most severe first),
 * without holding it: text is appended to named buckets, in memory up to a limit and then in one
 * temporary file per bucket; drain() writes the buckets in the order asked, in chunks, so memory
 * stays the same however much is written.
 */
export class Spool {
  readonly #limit: number;
  readonly #tmpdir: string;
  readonly #buffers = new Map<string, string[]>();
  readonly #files = new Map<string, string>();
  #buffered = 0;
  #dir: string | undefined;
  #spilled = 0;
  readonly #cleanup = () => this.#remove();

  constructor(options: SpoolOptions = {}) {
    this.#limit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    this.#tmpdir = options.tmpdir ?? tmpdir();
  }

  /** Characters written to temporary files so far (0 while everything fits in memory). */
  get spilled(): number {
    return this.#spilled;
  }

  /** Appends text to a bucket. */
  add(bucket: string, text: string): void {
    const buffer = this.#buffers.get(bucket);
    if (buffer) buffer.push(text);
    else this.#buffers.set(bucket, [text]);
    this.#buffered += text.length;
    if (this.#buffered > this.#limit) this.#flush();
  }

  /** Writes every bucket named in `order`, in that order, each as it was appended, through `write` (awaited per chunk). */
  async drain(order: readonly string[], write: (chunk: string) => Promise<void>): Promise<void> {
    for (const bucket of order) {
      const file = this.#files.get(bucket);
      if (file) {
        for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1024 * 1024 })) await write(chunk as string);
      }
      const rest = this.#buffers.get(bucket);
      if (rest?.length) await write(rest.join(""));
    }
  }

  /** Removes the temporary files. */
  dispose(): void {
    this.#remove();
    this.#buffers.clear();
    this.#buffered = 0;
  }

  #flush(): void {
    if (this.#dir === undefined) {
      this.#dir = mkdtempSync(join(this.#tmpdir, "grantguard-spool-"));
      // An interrupted run leaves nothing behind: the files go with the process.
      process.once("exit", this.#cleanup);
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, this.#onSignal);
    }
    for (const [bucket, texts] of this.#buffers) {
      if (texts.length === 0) continue;
      let file = this.#files.get(bucket);
      if (!file) {
        file = join(this.#dir, `${this.#files.size}.part`);
        this.#files.set(bucket, file);
      }
      const text = texts.join("");
      appendFileSync(file, text);
      this.#spilled += text.length;
      texts.length = 0;
    }
    this.#buffered = 0;
  }

  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#remove();
    process.kill(process.pid, signal);
  };

  #remove(): void {
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
    this.#files.clear();
    process.removeListener("exit", this.#cleanup);
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.removeListener(signal, this.#onSignal);
  }
}
