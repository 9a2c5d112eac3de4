// `npm run bench`: figures and ratios against baselines measured in the same process.
import { fileURLToPath } from "node:url";
import { buildFacts, gatherContext, toCelContext, type Facts } from "../shared/facts/build.js";
import { SnapshotContext } from "../shared/facts/snapshotContext.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid } from "../shared/model/access.js";
import { readTenantSnapshot, type TenantSnapshot } from "../shared/model/snapshot.js";
import { evaluatePolicies } from "../shared/policy/evaluate.js";
import { loadPolicies } from "../shared/policy/load.js";
import type { Policy } from "../shared/policy/policy.js";
import { createRuntime } from "../shared/runtime.js";
import { startLocalAzure } from "../local/localAzure.js";
import { loadTrustedLocalTls } from "../local/tls.js";
import { HAND_WRITTEN } from "./predicates.js";

const DEMO = fileURLToPath(new URL("../local/demo/tenant.json", import.meta.url));
const ASSIGNMENTS = Number(process.env.BENCH_ASSIGNMENTS ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
const RUNS = 5;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** The facts of every demo assignment, repeated until there are `count`. */
async function syntheticFacts(snapshot: TenantSnapshot, count: number): Promise<Facts[]> {
  const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
  const principals = new Map(snapshot.principals.map((p) => [p.id.toLowerCase(), p]));
  const context = new SnapshotContext(snapshot);
  const base = await Promise.all(
    snapshot.roleAssignments.map(async (arm) => {
      const assignment = roleAssignmentFromArm(arm);
      const role = roles.get(roleDefinitionGuid(assignment.roleDefinitionId))!;
      const principal = principals.get(assignment.principalId.toLowerCase()) ?? null;
      return buildFacts({ assignment, role, principal, grantedBy: null, tenantId: snapshot.tenantId, context: await gatherContext(context, assignment, role, principal) });
    }),
  );
  return Array.from({ length: count }, (_, i) => base[i % base.length]!);
}

/** Runs `work` RUNS times and returns the median assignments (or events) per second. */
function rate(count: number, work: () => void): number {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    work();
    rates.push(count / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  return median(rates);
}

async function benchPolicies(snapshot: TenantSnapshot, policies: readonly Policy[]): Promise<void> {
  const missing = policies.filter((p) => !HAND_WRITTEN[p.id]);
  if (missing.length) throw new Error(`bench/predicates.ts lacks a hand-written twin for: ${missing.map((p) => p.id).join(", ")}`);
  const facts = await syntheticFacts(snapshot, ASSIGNMENTS);

  // Differential check first: CEL and the hand-written predicates must agree on every assignment.
  const disagreements = facts.slice(0, snapshot.roleAssignments.length).flatMap((f) => {
    const cel = new Set(evaluatePolicies(policies, f).matches.map((m) => m.policy.id));
    return policies.filter((p) => cel.has(p.id) !== HAND_WRITTEN[p.id]!(f)).map((p) => `${p.id} on ${f.assignment.id}`);
  });
  if (disagreements.length) throw new Error(`CEL and hand-written predicates disagree: ${disagreements.slice(0, 5).join("; ")}`);

  const predicates = policies.map((p) => HAND_WRITTEN[p.id]!);
  let sink = 0;
  const floor = rate(facts.length, () => {
    for (const f of facts) for (const predicate of predicates) if (predicate(f)) sink++;
  });
  const celOnly = rate(facts.length, () => {
    for (const f of facts) {
      const context = toCelContext(f);
      for (const p of policies) if (p.matches(context)) sink++;
    }
  });
  const full = rate(facts.length, () => {
    for (const f of facts) sink += evaluatePolicies(policies, f).matches.length;
  });
  const matches = policies.map((p) => facts.filter((f) => HAND_WRITTEN[p.id]!(f)).length).reduce((a, b) => a + b, 0);

  console.log(`\nPolicy evaluation: ${policies.length} starter policies × ${fmt(facts.length)} assignments (median of ${RUNS} runs; ${fmt(matches)} matches; CEL and hand-written agree on all ${snapshot.roleAssignments.length} distinct assignments)`);
  console.log(`  hand-written TypeScript predicates (floor)   ${fmt(floor).padStart(12)} assignments/s   1.0×`);
  console.log(`  CEL conditions (compiled once)               ${fmt(celOnly).padStart(12)} assignments/s   ${fmt(floor / celOnly, 1)}× the floor`);
  console.log(`  evaluatePolicies (CEL + explanations)        ${fmt(full).padStart(12)} assignments/s   ${fmt(floor / full, 1)}× the floor`);
  if (sink < 0) console.log(sink);
}

async function benchGrantPath(snapshot: TenantSnapshot): Promise<void> {
  const local = await startLocalAzure({ snapshot, tls: await loadTrustedLocalTls() });
  Object.assign(process.env, local.settings);
  try {
    const runtime = await createRuntime({ ...process.env, GRANTGUARD_FINDINGS_TABLE: "benchfindings", GRANTGUARD_EVENTS_TABLE: "benchevents" });
    const targets = snapshot.roleAssignments.filter((a) => a.properties.scope.startsWith("/subscriptions/"));
    const event = (i: number) => {
      const a = targets[i % targets.length]!;
      return {
        id: `bench-${i}`,
        eventType: "Microsoft.Resources.ResourceWriteSuccess",
        eventTime: new Date(Date.UTC(2026, 10, 21, 9, 0, i % 60)).toISOString(),
        subject: a.id,
        data: { operationName: "Microsoft.Authorization/roleAssignments/write", resourceUri: a.id, tenantId: snapshot.tenantId, claims: { "http://schemas.microsoft.com/identity/claims/objectidentifier": "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71" } },
      };
    };
    // Warm up: token, role-definition cache, table creation, JIT.
    for (let i = 0; i < 20; i++) await runtime.judgeGrantEvent(event(i));

    // Baseline in the same process: one ARM GET of an assignment through the same SDK client.
    const armGet: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const started = performance.now();
      await runtime.services.roleAssignments.getById(targets[i % targets.length]!.id);
      armGet.push(performance.now() - started);
    }

    const latencies: number[] = [];
    const sequentialStart = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const started = performance.now();
      await runtime.judgeGrantEvent(event(1_000 + i));
      latencies.push(performance.now() - started);
    }
    const sequentialRate = EVENTS / ((performance.now() - sequentialStart) / 1000);

    const concurrency = 8;
    let next = 0;
    const concurrentStart = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < EVENTS) await runtime.judgeGrantEvent(event(10_000 + next++));
      }),
    );
    const concurrentRate = EVENTS / ((performance.now() - concurrentStart) / 1000);

    console.log(`\nGrant path: ${EVENTS} role-assignment write events judged through the real SDK clients (ARM + Graph + Table Storage) against the simulator and Azurite`);
    console.log(`  one ARM GET of an assignment (baseline)      p50 ${fmt(percentile(armGet, 50), 2).padStart(7)} ms   p99 ${fmt(percentile(armGet, 99), 2).padStart(7)} ms`);
    console.log(`  judgeGrantEvent, one at a time               p50 ${fmt(percentile(latencies, 50), 2).padStart(7)} ms   p99 ${fmt(percentile(latencies, 99), 2).padStart(7)} ms   ${fmt(sequentialRate, 1)} events/s   ${fmt(percentile(latencies, 50) / percentile(armGet, 50), 1)}× one ARM GET (p50)`);
    console.log(`  judgeGrantEvent, ${concurrency} in flight                                                 ${fmt(concurrentRate, 1)} events/s   ${fmt(concurrentRate / sequentialRate, 1)}× one at a time`);
    console.log("  (the simulator shares this process and Azurite runs beside it on the same 2 cores: figures include their cost)");
  } finally {
    await local.stop();
  }
}

const snapshot = await readTenantSnapshot(DEMO);
const policies = await loadPolicies(fileURLToPath(new URL("../policies", import.meta.url)));
console.log(`grantguard bench — Node ${process.version}, ${new Date().toISOString()}`);
await benchPolicies(snapshot, policies);
await benchGrantPath(snapshot);
