import { afterEach, describe, expect, it } from "vitest";
import { DevHost } from "../../local/devhost.js";
import { LocalEventGrid } from "../../local/eventGrid.js";

// The local Event Grid against a probe function in the dev host: the deliveries Event Grid may make.

let host: DevHost | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

/** A dev host whose one function records each event and holds it until `holdUntil` run at once (or 1 s). */
async function probe(holdUntil: number) {
  const seen: string[] = [];
  let running = 0;
  let peak = 0;
  let release: () => void = () => undefined;
  let enough = new Promise<void>((resolve) => (release = resolve));
  host = new DevHost(() => undefined, {
    registrations: [
      {
        name: "probe",
        trigger: "eventGrid",
        handler: async (event) => {
          running += 1;
          peak = Math.max(peak, running);
          if (running >= holdUntil) release();
          await Promise.race([enough, new Promise((r) => setTimeout(r, 1_000))]);
          running -= 1;
          if (running === 0) enough = new Promise<void>((resolve) => (release = resolve));
          seen.push((event as { id: string }).id);
        },
      },
    ],
  });
  await host.start();
  return { url: host.eventGridUrl("probe"), seen, peak: () => peak };
}

const events = Array.from({ length: 6 }, (_, i) => ({ id: `e${i}` }));

describe("LocalEventGrid.deliverConcurrently", () => {
  it("delivers every event and its duplicates, several POSTs at once, out of order", async () => {
    const p = await probe(4);
    const grid = new LocalEventGrid({ endpoint: p.url });
    await grid.deliverConcurrently(events, { concurrency: 4, duplicates: 1, seed: 7 });
    await grid.settled();

    expect(p.peak()).toBe(4);
    expect([...p.seen].sort()).toEqual(events.flatMap((e) => [e.id, e.id]).sort());
    expect(p.seen).not.toEqual([...p.seen].sort());
    expect(grid.outcomes).toHaveLength(12);
    expect(grid.outcomes.every((o) => o.status === "delivered" && o.attempts === 1)).toBe(true);
  });

  it("repeats the same order for the same seed, and keeps the published order without shuffling", async () => {
    const p = await probe(1);
    const order = async (options: { seed?: number; shuffle?: boolean }) => {
      p.seen.length = 0;
      const grid = new LocalEventGrid({ endpoint: p.url });
      await grid.deliverConcurrently(events, { concurrency: 1, ...options });
      return [...p.seen];
    };
    expect(await order({ seed: 42 })).toEqual(await order({ seed: 42 }));
    expect(await order({ seed: 42 })).not.toEqual(await order({ seed: 43 }));
    expect(await order({ shuffle: false })).toEqual(events.map((e) => e.id));
  });

  it("puts batchSize events in one POST, which the host runs in parallel", async () => {
    const p = await probe(3);
    const grid = new LocalEventGrid({ endpoint: p.url });
    await grid.deliverConcurrently(events, { concurrency: 1, batchSize: 3, shuffle: false });
    expect(p.peak()).toBe(3);
    expect(grid.outcomes.map((o) => o.eventId)).toEqual(events.map((e) => e.id));
  });
});

describe("LocalEventGrid retries", () => {
  it("dead-letters at once what the webhook refuses with 401, as Event Grid does not retry it", async () => {
    const p = await probe(1);
    const grid = new LocalEventGrid({ endpoint: p.url.replace(/&code=[^&]*/, "&code=wrong"), retryDelaysMs: [10], maxAttempts: 5 });
    // The subscription handshake itself is refused: nothing is delivered.
    await expect(grid.publish(events.slice(0, 1))).rejects.toThrow(/refused the subscription validation: HTTP 401/);
    expect(p.seen).toEqual([]);
  });

  it("retries a failed invocation (500), and dead-letters at once an event refused as too large (413)", async () => {
    let calls = 0;
    host = new DevHost(() => undefined, {
      maxRequestBodyBytes: 1_024,
      registrations: [
        {
          name: "flaky",
          trigger: "eventGrid",
          handler: async () => {
            calls += 1;
            if (calls === 1) throw new Error("the first try fails");
          },
        },
      ],
    });
    await host.start();
    const grid = new LocalEventGrid({ endpoint: host.eventGridUrl("flaky"), retryDelaysMs: [10], maxAttempts: 5 });
    await grid.publish([{ id: "retried" }, { id: "too-large", padding: "p".repeat(2_000) }]);
    await grid.settled();
    expect(grid.outcomes).toEqual([
      { status: "deadLettered", eventId: "too-large", attempts: 1, lastError: expect.stringMatching(/^HTTP 413/) },
      { status: "delivered", eventId: "retried", attempts: 2 },
    ]);
  });
});
