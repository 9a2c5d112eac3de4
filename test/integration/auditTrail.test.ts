import { TableClient } from "@azure/data-tables";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TableAuditChain, recordRowKey } from "../../shared/azure/auditTrailTable.js";
import { TableFindingsStore } from "../../shared/azure/findingsTable.js";
import { createManagedIdentityCredential } from "../../shared/azure/credential.js";
import type { AuditEntry, AuditRecord } from "../../shared/audit/record.js";
import { digestHash } from "../../shared/audit/digest.js";
import { drainLeftovers, drainMarkers } from "../../shared/audit/trail.js";
import { verifyTrail } from "../../shared/audit/verify.js";
import { readTenantSnapshot } from "../../shared/model/snapshot.js";
import type { Runtime } from "../../shared/runtime.js";
import { rearmRevocation, restoreAssignment } from "../../shared/usecases/restoreAssignment.js";
import { fixture, readFixture, startTestAzure, type TestAzure } from "../support/testAzure.js";

// The audit trail through the real SDKs against Azurite (the chain, the markers, the digest blob)
// and the simulator (ARM, and Key Vault signing the digests).

const RG = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app";
const GUEST_OWNER = `${RG}/providers/Microsoft.Authorization/roleAssignments/a0000001-0000-4000-8000-000000000001`;
const PACK = `${fileURLToPath(new URL("../../policies", import.meta.url))},${fileURLToPath(new URL("../../local/demo/revoke-pack", import.meta.url))}`;

let azure: TestAzure;
let run = 0;
beforeAll(async () => {
  azure = await startTestAzure();
});
afterAll(async () => {
  await azure?.stop();
});
beforeEach(async () => {
  azure.local.simulator.reset(await readTenantSnapshot(fixture("tenants/small.json")));
});

const credential = () => createManagedIdentityCredential({ clientId: undefined, timeoutMs: 30_000 });
const table = (name: string) => new TableClient(azure.local.settings.GRANTGUARD_TABLE_ENDPOINT as string, name, credential());
const runtimeWith = (settings: Record<string, string> = {}) => {
  run += 1;
  return azure.runtime({ GRANTGUARD_POLICIES_DIR: PACK, GRANTGUARD_AUDIT_TABLE: `audit${process.pid}x${run}`, GRANTGUARD_AUDIT_CONTAINER: `audit-${process.pid}-${run}`, ...settings });
};
const records = async (runtime: Runtime): Promise<AuditRecord[]> => {
  const all: AuditRecord[] = [];
  for await (const r of runtime.services.audit.chain.read()) all.push(r);
  return all;
};
const kinds = (list: readonly AuditRecord[]) => list.map((r) => r.kind);
const writeEvent = async (id: string) => ({ ...(await readFixture<Record<string, unknown>>("events/guest-owner-write.json")), id });
const verifyLive = async (runtime: Runtime) => {
  const digests = runtime.services.audit.digests;
  if (!digests) throw new Error("digests are not configured");
  return verifyTrail(runtime.services.audit.chain.read(), digests.store.list(), { publicKey: digests.publicKeys, expectedHead: await runtime.services.audit.chain.head() });
};

describe("the audit trail's chain in Table Storage", () => {
  it("keeps concurrent appenders gapless, each change once, and the chain valid", async () => {
    run += 1;
    const chain = new TableAuditChain(table(`auditrace${process.pid}x${run}`));
    const entry = (id: string): AuditEntry => ({ id, kind: "test.append", at: "2026-11-22T00:00:00.000Z", actor: "grantguard", subject: id, data: { id } });
    // Eight writers at once, 30 entries each; every entry is handed in by two writers (as two drainers of one marker would).
    const writers = Array.from({ length: 8 }, (_, w) => Array.from({ length: 30 }, (_, i) => entry(`change-${(w % 4) * 30 + i}`)));
    const results = await Promise.all(writers.map(async (entries) => {
      const appended: AuditRecord[] = [];
      for (let i = 0; i < entries.length; i += 5) appended.push(...(await chain.append(entries.slice(i, i + 5))).appended);
      return appended;
    }));
    const all: AuditRecord[] = [];
    for await (const r of chain.read()) all.push(r);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(new Set(all.map((r) => r.id)).size).toBe(120);
    expect(results.flat()).toHaveLength(120);
    expect(await chain.head()).toEqual({ seq: 120, hash: all[119]?.hash });
    const report = await verifyTrail(all, [], { publicKey: async () => null, expectedHead: await chain.head() });
    expect(report).toMatchObject({ ok: true, records: 120 });
  }, 120_000);

  it("pages records with a continuation point", async () => {
    run += 1;
    const chain = new TableAuditChain(table(`auditpage${process.pid}x${run}`));
    await chain.append(Array.from({ length: 7 }, (_, i) => ({ id: `p${i}`, kind: "test", at: "2026-11-22T00:00:00.000Z", actor: "grantguard", subject: "s", data: {} })));
    const first = await chain.list({ fromSeq: 1, limit: 3 });
    expect(first.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(first.nextSeq).toBe(4);
    const last = await chain.list({ fromSeq: 7, limit: 3 });
    expect(last).toMatchObject({ records: [expect.objectContaining({ seq: 7 })], nextSeq: null });
  });
});

describe("what the trail records", () => {
  it("records each finding a judged grant opens, once, and nothing for a duplicate delivery", async () => {
    const runtime = await runtimeWith();
    const outcome = await runtime.judgeGrantEvent(await writeEvent("trail-judged-1"));
    expect(outcome.status).toBe("judged");
    const open = outcome.status === "judged" ? outcome.open : [];
    const after = await records(runtime);
    expect(after.length).toBe(open.length);
    expect(new Set(after.map((r) => r.data.findingId))).toEqual(new Set(open.map((f) => f.id)));
    expect(new Set(kinds(after))).toEqual(new Set(["finding.opened"]));
    expect(after.every((r) => r.subject === GUEST_OWNER && r.actor === "grantguard")).toBe(true);
    // The markers were drained by the instance itself: nothing waits for the timer.
    expect(await drainLeftovers(runtime.services.audit.chain, runtime.services.audit.markers)).toEqual({ markers: 0, appended: 0, duplicates: 0 });

    await runtime.judgeGrantEvent(await writeEvent("trail-judged-1"));
    expect(await records(runtime)).toHaveLength(after.length);
  });

  it("records a revocation, the findings it changed, a restore and a re-arm, each with who did it", async () => {
    const runtime = await runtimeWith({ GRANTGUARD_MODE: "enforce" });
    const outcome = await runtime.judgeGrantEvent(await writeEvent("trail-enforce-1"));
    const revocation = outcome.status === "judged" ? outcome.revocation : null;
    expect(revocation?.status).toBe("deleted");
    const judged = await records(runtime);
    const revocationKinds = kinds(judged).filter((k) => k.startsWith("revocation."));
    expect(revocationKinds).toEqual(["revocation.pending", "revocation.deleted"]);
    // The revoking policy's finding: opened as revoking, then resolved as revoked once ARM deleted the assignment.
    const revoked = judged.filter((r) => r.data.findingId && String(r.data.findingId).startsWith("demo-revoke-guest-privileged"));
    expect(revoked.map((r) => [r.kind, (r.data.state as Record<string, unknown>).responseKind])).toEqual([["finding.opened", "revoking"], ["finding.resolved", "revoked"]]);

    const writer = runtime.writerFor(credential());
    await restoreAssignment({ revocations: runtime.services.revocations, writer, now: () => new Date() }, revocation?.id ?? "", { reason: "contract renewed, CAB-42", requestedBy: "mia@contoso.com (cccccccc)" });
    const restored = (await records(runtime)).slice(judged.length);
    expect(restored.map((r) => [r.kind, r.actor, r.data.reason])).toEqual([
      ["revocation.restoring", "mia@contoso.com (cccccccc)", "contract renewed, CAB-42"],
      ["revocation.restored", "mia@contoso.com (cccccccc)", "contract renewed, CAB-42"],
    ]);

    const before = (await records(runtime)).length;
    await rearmRevocation({ revocations: runtime.services.revocations, now: () => new Date("2026-11-22T10:00:00Z") }, { reason: "cap reviewed by the SOC", requestedBy: "grace@contoso.com" });
    const rearmed = (await records(runtime)).slice(before);
    expect(rearmed.map((r) => [r.kind, r.actor, r.data.reason])).toEqual([["breaker.rearmed", "grace@contoso.com", "cap reviewed by the SOC"]]);
    expect((await verifyLive(runtime)).ok).toBe(true);
  });

  it("appends a change whose instance died between commit and drain exactly once, when the timer drains it", async () => {
    const runtime = await runtimeWith();
    // An instance that commits and dies before draining: the same table, no drain after its commits.
    const dying = new TableFindingsStore(table(runtime.config.findingsTable));
    const outcome = await (await import("../../shared/usecases/judgeGrantEvent.js")).judgeGrantEvent(await writeEvent("trail-crash-1"), { ...runtime.judge, findings: dying });
    const open = outcome.status === "judged" ? outcome.open : [];
    expect(open.length).toBeGreaterThan(0);
    expect(await records(runtime)).toHaveLength(0);

    // A drainer that appends and dies before removing the markers: its records stand, the markers stay.
    const waiting = await dying.trailMarkers.list();
    expect(waiting).toHaveLength(open.length);
    await runtime.services.audit.chain.append(waiting.map((m) => m.entry));
    expect(await records(runtime)).toHaveLength(open.length);

    // The timer: every marker again, none appended twice; then nothing is left.
    expect(await runtime.drainAuditTrail()).toEqual({ markers: open.length, appended: 0, duplicates: open.length });
    expect(await runtime.drainAuditTrail()).toEqual({ markers: 0, appended: 0, duplicates: 0 });
    const all = await records(runtime);
    expect(all).toHaveLength(open.length);
    expect(new Set(all.map((r) => r.data.findingId))).toEqual(new Set(open.map((f) => f.id)));
    // Draining the same markers twice at once gives one record each too.
    await drainMarkers(runtime.services.audit.chain, dying.trailMarkers, waiting);
    expect(await records(runtime)).toHaveLength(open.length);
  });
});

describe("digests signed with the Key Vault key", () => {
  it("signs a digest of the new records, chains the next one to it, and the live trail verifies", async () => {
    const runtime = await runtimeWith();
    await runtime.judgeGrantEvent(await writeEvent("trail-digest-1"));
    const first = await runtime.signAuditDigest();
    expect(first).toMatchObject({ status: "written", digest: { fromSeq: 1, algorithm: "RS256" } });
    expect(await runtime.signAuditDigest()).toMatchObject({ status: "upToDate" });
    const keyId = first.status === "written" ? first.digest.keyId : "";
    expect(keyId.startsWith(`${azure.local.simulator.url}/keys/grantguard-audit/`)).toBe(true);

    await rearmRevocation({ revocations: runtime.services.revocations, now: () => new Date() }, { reason: "nothing tripped, recorded anyway", requestedBy: "grace@contoso.com" });
    const second = await runtime.signAuditDigest();
    expect(second.status === "written" && first.status === "written" && second.digest.fromSeq).toBe(first.status === "written" ? first.digest.toSeq + 1 : -1);
    const report = await verifyLive(runtime);
    expect(report).toMatchObject({ ok: true, digests: 2, firstBadRecord: null });
    expect(report.signedThrough).toBe(report.verifiedThrough);
  });

  it("names a record modified in the table, and a digest whose signature was forged", async () => {
    const runtime = await runtimeWith();
    await runtime.judgeGrantEvent(await writeEvent("trail-tamper-1"));
    await runtime.signAuditDigest();
    const chainTable = table(runtime.config.audit.table);
    await chainTable.updateEntity({ partitionKey: "chain", rowKey: recordRowKey(2), actor: "mallory@contoso.com" }, "Merge");
    expect((await verifyLive(runtime)).firstBadRecord).toMatchObject({ seq: 2, issue: "modified" });

    // A digest written by someone without the key: a well-formed line whose signature is not Key Vault's.
    const store = runtime.services.audit.digests!.store;
    const { digest, version } = await store.latest();
    expect(digest).not.toBeNull();
    const forged = { ...digest!, fromSeq: digest!.toSeq + 1, toSeq: digest!.toSeq + 1, previousDigestHash: digestHash(digest!), at: new Date().toISOString() };
    expect(await store.append(forged, version)).toBe(true);
    const report = await verifyLive(runtime);
    expect(report.ok).toBe(false);
    expect(report.badDigests).toEqual([expect.objectContaining({ index: 2, issue: "signature" })]);
  });
});
