import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { processIo } from "../../../shared/cli/io.js";

/** A stream whose reader takes `capacity` chunks before it must drain, as a pipe to a slow program. */
class SlowReader extends EventEmitter {
  readonly chunks: string[] = [];
  isTTY = false;
  columns = 80;
  constructor(private readonly capacity: number) {
    super();
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.chunks.length % this.capacity !== 0;
  }
}

describe("processIo", () => {
  it("waits for a slow reader to drain before taking more output", async () => {
    const stdout = new SlowReader(2);
    const io = processIo(stdout, new SlowReader(1000));
    await io.write("a");
    let taken = false;
    const second = io.write("b").then(() => (taken = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(taken).toBe(false);
    stdout.emit("drain");
    await second;
    expect(stdout.chunks).toEqual(["a", "b"]);
  });

  it("drops output once the reader went away (| head), so the run ends with its own exit code, leaving no listeners behind", async () => {
    const stdout = new SlowReader(1);
    const io = processIo(stdout, new SlowReader(1000));
    const pending = io.write("a");
    stdout.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await pending;
    for (let i = 0; i < 100; i++) await io.write("more");
    io.out("a line");
    expect(stdout.chunks).toEqual(["a"]);
    expect(stdout.listenerCount("drain")).toBe(0);
    expect(stdout.listenerCount("error")).toBe(1);
  });

  it("shows the status line only on a terminal, and clears it before the next line", () => {
    const terminal = Object.assign(new SlowReader(1000), { isTTY: true });
    const io = processIo(new SlowReader(1000), terminal);
    io.status("evaluating 50%");
    io.err("a warning");
    expect(terminal.chunks).toEqual(["\r\x1b[2Kevaluating 50%", "\r\x1b[2K", "a warning\n"]);
    const pipe = new SlowReader(1000);
    processIo(new SlowReader(1000), pipe).status("evaluating 50%");
    expect(pipe.chunks).toEqual([]);
  });
});
