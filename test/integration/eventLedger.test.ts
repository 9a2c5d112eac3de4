import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventRecord } from "../../shared/model/finding.js";
import type { EventLedger } from "../../shared/findings/store.js";
import { startTestAzure, type TestAzure } from "../support/testAzure.js";

// The event ledger on Azurite through the real Tables SDK: whatever an event held, its record is
// written (Table Storage's limits: keys of 1 KiB without / \ # ? or controls, string properties of
// 64 KiB, entities of 1 MiB) and read back.

let azure: TestAzure;
let ledger: EventLedger;
beforeAll(async () => {
  azure = await startTestAzure();
  ledger = (await azure.runtime()).services.ledger;
});
afterAll(async () => {
  await azure?.stop();
});

const entry = (eventId: string, extra: Partial<EventRecord> = {}): EventRecord => ({
  eventId,
  receivedAt: "2026-11-21T09:30:00.000Z",
  eventType: null,
  eventTime: null,
  outcome: "rejected",
  reason: "test",
  assignmentId: null,
  findingIds: [],
  evaluationErrors: [],
  correlationId: null,
  ...extra,
});

describe("TableEventLedger", () => {
  it("records values far over Table Storage's limits, cut with a marker", async () => {
    await ledger.record(
      entry("over-limits", {
        eventType: "T".repeat(100_000),
        reason: `why ${"r".repeat(300_000)}`,
        correlationId: "c".repeat(70_000),
        findingIds: Array.from({ length: 2_000 }, (_, i) => `policy-${i}.${"f".repeat(32)}`),
        evaluationErrors: Array.from({ length: 500 }, (_, i) => ({ policyId: `p${i}`, message: "m".repeat(10_000) })),
      }),
    );
    const record = (await ledger.list()).find((r) => r.eventId === "over-limits")!;
    expect(record.reason.startsWith("why rrr")).toBe(true);
    expect(record.reason).toMatch(/… \[truncated from 300004 characters\]$/);
    expect(record.reason.length).toBeLessThanOrEqual(32_000);
    expect(record.eventType!.length).toBeLessThanOrEqual(32_000);
    expect(record.findingIds.at(-1)).toMatch(/^… \d+ more$/);
    expect(record.findingIds[0]).toBe(`policy-0.${"f".repeat(32)}`);
    expect(record.evaluationErrors.at(-1)).toMatchObject({ message: expect.stringMatching(/\d+ more evaluation errors/) });
  });

  it("records ids that are no legal row key under distinct clean keys, keeping what they said", async () => {
    const ids = ["slash/hash#query?", "slash_hash_query_", "lone\ud800", "lone\udc00", "ctrl\u0001", "k".repeat(5_000)];
    for (const [i, id] of ids.entries()) await ledger.record(entry(id, { reason: `id #${i}` }));
    const records = await ledger.list();
    const stored = ids.map((_, i) => records.filter((r) => r.reason === `id #${i}`));
    expect(stored.map((found) => found.length)).toEqual(ids.map(() => 1));
    expect(stored.map((found) => found[0]?.eventId.slice(0, 20))).toEqual(["slash/hash#query?", "slash_hash_query_", "lone\ufffd", "lone\ufffd", "ctrl\ufffd", "k".repeat(20)]);
  });

  it("replaces the record of an event delivered again", async () => {
    await ledger.record(entry("again/1", { reason: "first" }));
    await ledger.record(entry("again/1", { reason: "second" }));
    expect((await ledger.list()).filter((r) => r.eventId === "again/1").map((r) => r.reason)).toEqual(["second"]);
  });
});
