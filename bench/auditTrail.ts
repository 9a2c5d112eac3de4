// `npm run bench` section auditTrail: verification throughput of the audit trail — records read back
// from Azurite through the chain's own adapter and checked (hash chain and signed digest), against
// the hashing floor (the same records' SHA-256 over their canonical JSON, with nothing read).
import { startLocalAzure } from "../local/localAzure.js";
import { loadTrustedLocalTls } from "../local/tls.js";
import { recordHash } from "../shared/audit/record.js";
import type { AuditEntry, AuditRecord } from "../shared/audit/record.js";
import { verifyTrail } from "../shared/audit/verify.js";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { createRuntime } from "../shared/runtime.js";

const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 20_000);
// What one append carries at most (the chain writes up to 49 records and its head per transaction).
const APPEND_BATCH = 49;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** A finding's state change, as the findings store trails one. */
function entry(n: number): AuditEntry {
  const assignmentId = `/subscriptions/${String(n % 20).padStart(8, "0")}-0000-4000-8000-000000000000/providers/Microsoft.Authorization/roleAssignments/${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  return {
    id: `bench:${n}`,
    kind: "finding.opened",
    at: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    actor: "grantguard",
    subject: `guest-privileged-role|${assignmentId}`,
    data: { status: "open", severity: "high", policyId: "guest-privileged-role", assignmentId, matchedFacts: { "principal.guest": true, "role.privileged": true } },
  };
}

/** Trail verification throughput: records/s read and checked from the local Azure, against the hashing floor. */
export async function benchAuditTrail(snapshot: TenantSnapshot): Promise<void> {
  const local = await startLocalAzure({ snapshot, tls: await loadTrustedLocalTls() });
  try {
    // The managed-identity credential reads its endpoint from the process environment.
    Object.assign(process.env, local.settings);
    const runtime = await createRuntime({ ...process.env, GRANTGUARD_AUDIT_TABLE: "benchaudittrail" });
    const { chain, digests } = runtime.services.audit;
    if (!digests) throw new Error("the local Azure did not configure the trail's digests (Key Vault and Blob)");
    const appendStarted = performance.now();
    for (let n = 0; n < RECORDS; n += APPEND_BATCH) {
      await chain.append(Array.from({ length: Math.min(APPEND_BATCH, RECORDS - n) }, (_, i) => entry(n + i)));
    }
    const appendMs = performance.now() - appendStarted;
    const signed = await runtime.signAuditDigest();
    if (signed.status !== "written") throw new Error(`no digest was signed: ${signed.status}`);

    const records: AuditRecord[] = [];
    const verifyStarted = performance.now();
    const report = await verifyTrail(
      (async function* () {
        for await (const record of chain.read()) {
          records.push(record);
          yield record;
        }
      })(),
      digests.store.list(),
      { publicKey: digests.publicKeys, expectedHead: await chain.head() },
    );
    const verifyMs = performance.now() - verifyStarted;
    if (!report.ok || report.records !== RECORDS) throw new Error(`the untouched trail did not verify: ${JSON.stringify(report.firstBadRecord ?? report.badDigests)}`);

    // The floor: the same records hashed in memory, nothing read or parsed.
    const floorStarted = performance.now();
    for (const r of records) recordHash(r.previousHash, r);
    const floorMs = performance.now() - floorStarted;

    console.log(`audit trail: ${fmt(RECORDS)} records appended through the chain in ${fmt(appendMs)} ms (${fmt(RECORDS / (appendMs / 1000))} records/s, ${APPEND_BATCH} per conditional transaction)`);
    console.log(`  verify (read from Azurite, hash chain and ${report.digests} signed digest(s)): ${fmt(RECORDS / (verifyMs / 1000))} records/s; ${fmt(verifyMs)} ms`);
    console.log(`  floor (the same records' SHA-256 in memory): ${fmt(RECORDS / (floorMs / 1000))} records/s; verification is ${(verifyMs / floorMs).toFixed(1)}× the floor (reading the table is most of it)`);
  } finally {
    await local.stop();
  }
}
