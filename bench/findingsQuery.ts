// `npm run bench` section findingsQuery: one page (100) of findings with a filter, over 100,000
// findings in Azurite written by the store's own partition commits (with their index entities).
import { createRuntime } from "../shared/runtime.js";
import { startLocalAzure } from "../local/localAzure.js";
import { loadTrustedLocalTls } from "../local/tls.js";
import { findingsPartition } from "../shared/findings/keys.js";
import { findingId, type Finding } from "../shared/model/finding.js";
import type { FindingsFilter } from "../shared/findings/query.js";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { mapConcurrently } from "../shared/model/concurrency.js";

const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 100_000);
const QUERIES = Number(process.env.BENCH_FINDINGS_QUERIES ?? 200);
const PAGE_SIZE = 100;
const SUBSCRIPTIONS = 20;
const PRINCIPALS = 5_000;
const POLICIES = ["guest-privileged-role", "pim-assigned-outside-pim", "inactive-identity", "privileged-role-direct-to-user", "role-can-delegate-or-elevate", "delegation-without-description-or-condition", "overprovisioned-role", "deleted-principal"];
const SEVERITIES = ["low", "medium", "high", "critical"] as const;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

function synthetic(n: number): Finding {
  const subscription = `${hex(n % SUBSCRIPTIONS, 8)}-0000-4000-8000-000000000000`;
  const scope = `/subscriptions/${subscription}/resourceGroups/rg-${n % 50}`;
  const assignmentId = `${scope}/providers/Microsoft.Authorization/roleAssignments/${hex(n, 8)}-0000-4000-8000-000000000000`;
  const policyId = POLICIES[n % POLICIES.length]!;
  // A year of findings: most resolved, a third open, a few exempted.
  const status = n % 3 === 0 ? "open" : n % 17 === 0 ? "exempted" : "resolved";
  const at = new Date(Date.UTC(2026, 0, 1) + (n % 365) * 86_400_000).toISOString();
  return {
    id: findingId(policyId, assignmentId), policyId, policyTitle: policyId, severity: SEVERITIES[(n * 7) % 4]!, status, action: "alert",
    assignmentId, assignmentName: assignmentId.split("/").pop()!, principalId: `${hex(n % PRINCIPALS, 8)}-1111-4111-8111-111111111111`, principalType: "User", principalName: `User ${n % PRINCIPALS}`,
    roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", roleName: "Owner", scope, scopeLevel: "resourceGroup", subscriptionId: subscription,
    reason: `${policyId} matched`, matchedFacts: { "role.privileged": true }, firstSeen: at, lastSeen: at, resolvedAt: status === "resolved" ? at : null, resolution: status === "resolved" ? "gone" : null,
    exemptionId: null, exemptionOwner: null, exemptionExpires: null, grantedBy: "alice@contoso.com", grantedByObjectId: null, grantedByIpAddress: null,
    responseKind: "alerted", responseDetail: null, backupId: null, alertPending: false, alertTransition: null, alertAt: null, lastEventId: null, correlationId: null,
  };
}

/** Findings query latency: p50/p99 of one page of 100 for filters answered by each plan. */
export async function benchFindingsQuery(snapshot: TenantSnapshot): Promise<void> {
  const local = await startLocalAzure({ snapshot, tls: await loadTrustedLocalTls() });
  try {
    // The managed-identity credential reads its endpoint from the process environment.
    Object.assign(process.env, local.settings);
    const runtime = await createRuntime({ ...process.env, GRANTGUARD_FINDINGS_TABLE: "benchqueryfindings" });
    const store = runtime.services.findingsReader;
    const started = performance.now();
    const byPartition = new Map<string, Finding[]>();
    for (let n = 0; n < FINDINGS; n++) {
      const f = synthetic(n);
      const partition = findingsPartition(f.scope);
      const list = byPartition.get(partition) ?? [];
      list.push(f);
      byPartition.set(partition, list);
    }
    await mapConcurrently([...byPartition], 4, async ([partition, findings]) => {
      for (let i = 0; i < findings.length; i += 1_000) {
        if (!(await store.commitPartition({ partition, findings: [], versions: new Map() }, findings.slice(i, i + 1_000)))) throw new Error("a bench write conflicted");
      }
    });
    const writeSeconds = (performance.now() - started) / 1000;
    console.log(`\nFindings query: ${fmt(FINDINGS)} findings over ${SUBSCRIPTIONS} subscriptions written with their index entities in ${fmt(writeSeconds, 1)} s (${fmt(FINDINGS / writeSeconds)} findings/s)`);
    const cases: [string, (i: number) => FindingsFilter][] = [
      ["status=open&severity=high (status index, severity range)", () => ({ status: "open", severity: "high" })],
      ["status=open&policy=… (status index, filtered)", (i) => ({ status: "open", policyId: POLICIES[i % POLICIES.length]! })],
      ["principal=… (principal index)", (i) => ({ principalId: `${hex((i * 37) % PRINCIPALS, 8)}-1111-4111-8111-111111111111` })],
      ["subscription=…&severity=critical (one partition)", (i) => ({ subscriptionId: `${hex(i % SUBSCRIPTIONS, 8)}-0000-4000-8000-000000000000`, severity: "critical" })],
      ["policy=… (no index: a filtered scan, paged)", (i) => ({ policyId: POLICIES[i % POLICIES.length]! })],
    ];
    for (const [name, filterOf] of cases) {
      const times: number[] = [];
      let returned = 0;
      let token: string | null = null;
      for (let i = 0; i < QUERIES; i++) {
        // Alternate first pages of new queries with next pages of the last one.
        const filter = filterOf(token ? i - 1 : i);
        const t0 = performance.now();
        const page = await store.queryPage(filter, { pageSize: PAGE_SIZE, continuationToken: token });
        times.push(performance.now() - t0);
        returned += page.findings.length;
        token = token ? null : page.continuationToken;
      }
      console.log(`  ${name.padEnd(58)} p50 ${fmt(percentile(times, 50), 1).padStart(6)} ms   p99 ${fmt(percentile(times, 99), 1).padStart(6)} ms   ${fmt(returned / QUERIES, 0)} findings/page`);
    }
  } finally {
    await local.stop();
  }
}
