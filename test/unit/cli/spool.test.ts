import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Spool } from "../../../shared/cli/spool.js";

async function drained(spool: Spool, order: readonly string[]): Promise<string[]> {
  const chunks: string[] = [];
  await spool.drain(order, async (chunk) => void chunks.push(chunk));
  return chunks;
}

describe("Spool", () => {
  it("writes the buckets in the order asked, each as it was appended, and leaves out buckets not asked for", async () => {
    const spool = new Spool();
    spool.add("low", "l1 ");
    spool.add("high", "h1 ");
    spool.add("low", "l2 ");
    spool.add("unlisted", "u1 ");
    spool.add("high", "h2 ");
    expect((await drained(spool, ["high", "medium", "low"])).join("")).toBe("h1 h2 l1 l2 ");
    expect(spool.spilled).toBe(0);
    spool.dispose();
  });

  it("keeps at most its memory limit in memory, spilling to temporary files, and writes the same text in bounded chunks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gg-spool-test-"));
    const spool = new Spool({ memoryLimit: 64 * 1024, tmpdir: dir });
    const entry = (bucket: string, i: number) => `{"bucket":"${bucket}","i":${i},"pad":"${"x".repeat(100)}"}\n`;
    const expected: Record<string, string[]> = { a: [], b: [], c: [] };
    for (let i = 0; i < 30_000; i++) {
      const bucket = ["c", "a", "b"][i % 3]!;
      spool.add(bucket, entry(bucket, i));
      expected[bucket]!.push(entry(bucket, i));
    }
    expect(spool.spilled).toBeGreaterThan(3_000_000);
    expect((await readdir(dir)).length).toBe(1);
    const chunks = await drained(spool, ["a", "b", "c"]);
    expect(chunks.join("")).toBe([...expected.a!, ...expected.b!, ...expected.c!].join(""));
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1024 * 1024);
    spool.dispose();
    expect(await readdir(dir)).toEqual([]);
  });
});
