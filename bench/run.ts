// `npm run bench`: figures and ratios against baselines measured in the same process.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { buildFacts, gatherContext, toCelContext, type Facts } from "../shared/facts/build.js";
import { SnapshotContext } from "../shared/facts/snapshotContext.js";
import { roleAssignmentFromArm, roleDefinitionFromArm, roleDefinitionGuid } from "../shared/model/access.js";
import { readTenantSnapshot, type TenantSnapshot } from "../shared/model/snapshot.js";
import { evaluatePolicies } from "../shared/policy/evaluate.js";
import { loadPolicies } from "../shared/policy/load.js";
import type { Policy } from "../shared/policy/policy.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import { randomBytes } from "node:crypto";
import { WebhookReceiver } from "../local/webhookReceiver.js";
import { HttpAlertSender } from "../shared/response/sender.js";
import { formatMessage } from "../shared/response/channels/index.js";
import { alertFromFinding, SEND_CONCURRENCY } from "../shared/response/dispatch.js";
import { mapConcurrently } from "../shared/model/concurrency.js";
import type { Finding } from "../shared/model/finding.js";
import type { Alert } from "../shared/response/alert.js";
import { startLocalAzure } from "../local/localAzure.js";
import { loadTrustedLocalTls } from "../local/tls.js";
import { HAND_WRITTEN } from "./predicates.js";
import { createJsonRulesEngine } from "./jsonRules.js";
import { scaleTenant } from "./synthetic.js";
import { evaluateSnapshot } from "../shared/usecases/evaluateSnapshot.js";
import { judgeGrantEvent } from "../shared/usecases/judgeGrantEvent.js";
import { LatencyProxy } from "../local/latencyProxy.js";
import { benchCommandLine } from "./commandLine.js";
import { benchSweep } from "./sweep.js";
import { benchFindingsQuery } from "./findingsQuery.js";
import { benchAuditTrail } from "./auditTrail.js";
import { createAuthorizationClient } from "../shared/azure/arm.js";
import { createManagedIdentityCredential } from "../shared/azure/credential.js";
import { createResourceGraphClient, ResourceGraphInventory } from "../shared/azure/resourceGraph.js";

const DEMO = fileURLToPath(new URL("../local/demo/tenant.json", import.meta.url));
const ASSIGNMENTS = Number(process.env.BENCH_ASSIGNMENTS ?? 100_000);
const JSON_RULES_ASSIGNMENTS = Number(process.env.BENCH_JSON_RULES_ASSIGNMENTS ?? 5_000);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 100);
const ALERTS = Number(process.env.BENCH_ALERTS ?? 500);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
// The Resource Graph section's tenant (BENCH_RESOURCE_GRAPH_ASSIGNMENTS): its pages take the quota's pace.
const RESOURCE_GRAPH_ASSIGNMENTS = Number(process.env.BENCH_RESOURCE_GRAPH_ASSIGNMENTS ?? 100_000);
const RUNS = 5;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Facts of every assignment of a tenant, built as the what-if builds them. */
async function factsOf(snapshot: TenantSnapshot): Promise<Facts[]> {
  const roles = new Map(snapshot.roleDefinitions.map((d) => [d.name.toLowerCase(), roleDefinitionFromArm(d)]));
  const principals = new Map(snapshot.principals.map((p) => [p.id.toLowerCase(), p]));
  const context = new SnapshotContext(snapshot);
  const facts: Facts[] = [];
  for (const arm of snapshot.roleAssignments) {
    const assignment = roleAssignmentFromArm(arm);
    const role = roles.get(roleDefinitionGuid(assignment.roleDefinitionId))!;
    const principal = principals.get(assignment.principalId.toLowerCase()) ?? null;
    facts.push(buildFacts({ assignment, role, principal, grantedBy: null, tenantId: snapshot.tenantId, context: await gatherContext(context, assignment, role, principal) }));
  }
  return facts;
}

/** Runs `work` RUNS times and returns the median rate (items per second). */
function rate(count: number, work: () => void): number {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    work();
    rates.push(count / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  return median(rates);
}

const mib = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MiB`;

async function benchPolicies(seed: TenantSnapshot, pack: readonly Policy[]): Promise<void> {
  // Assignment policies: a subscription policy judges a subscription as a whole, in a sweep.
  const policies = pack.filter((p) => p.subject === "assignment");
  const missing = policies.filter((p) => !HAND_WRITTEN[p.id]);
  if (missing.length) throw new Error(`bench/predicates.ts lacks a hand-written twin for: ${missing.map((p) => p.id).join(", ")}`);
  const rules = createJsonRulesEngine();
  const notInRules = policies.filter((p) => !rules.policyIds.includes(p.id));
  if (notInRules.length) throw new Error(`bench/jsonRules.ts lacks a rule for: ${notInRules.map((p) => p.id).join(", ")}`);

  const snapshot = scaleTenant(seed, ASSIGNMENTS);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let started = performance.now();
  const whatIf = await evaluateSnapshot(snapshot, { policies, exemptions: [] }, { now: new Date() });
  const endToEnd = snapshot.roleAssignments.length / ((performance.now() - started) / 1000);
  const heapAfterWhatIf = process.memoryUsage().heapUsed;

  started = performance.now();
  const facts = await factsOf(snapshot);
  const factRate = facts.length / ((performance.now() - started) / 1000);

  // Agreement first: on every assignment, compiled CEL, the interpreter and the hand-written
  // predicates give the same verdict; json-rules-engine on a slice (it is slow).
  let matches = 0;
  for (const f of facts) {
    const context: Record<string, object> = toCelContext(f);
    for (const p of policies) {
      context.params = p.params;
      const verdict = p.matches(context);
      if (verdict !== HAND_WRITTEN[p.id]!(f) || verdict !== p.matchesInterpreted(context)) throw new Error(`${p.id} disagrees on ${f.assignment.id}`);
      if (verdict) matches++;
    }
  }
  const slice = facts.slice(0, JSON_RULES_ASSIGNMENTS);
  for (const f of slice) {
    const fromRules = new Set(await rules.run(f));
    for (const p of policies) if (fromRules.has(p.id) !== HAND_WRITTEN[p.id]!(f)) throw new Error(`json-rules-engine disagrees on ${p.id} for ${f.assignment.id}`);
  }

  const predicates = policies.map((p) => HAND_WRITTEN[p.id]!);
  let sink = 0;
  const floor = rate(facts.length, () => {
    for (const f of facts) for (const predicate of predicates) if (predicate(f)) sink++;
  });
  const evaluateWith = (pick: (p: Policy) => (c: Record<string, object>) => boolean) => () => {
    for (const f of facts) {
      const context: Record<string, object> = toCelContext(f);
      for (const p of policies) {
        context.params = p.params;
        if (pick(p)(context)) sink++;
      }
    }
  };
  const compiled = rate(facts.length, evaluateWith((p) => p.matches));
  const interpreted = rate(Math.min(facts.length, 20_000), () => evaluateWith((p) => p.matchesInterpreted).call(null));
  const explained = rate(facts.length, () => {
    for (const f of facts) sink += evaluatePolicies(policies, f).matches.length;
  });
  const rulesRates: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    for (const f of slice) sink += (await rules.run(f)).length;
    rulesRates.push(slice.length / ((performance.now() - t0) / 1000));
  }
  const jsonRules = median(rulesRates);
  if (sink < 0) console.log(sink);

  console.log(`\nPolicy evaluation: the pack's ${policies.length} assignment policies over a ${fmt(snapshot.roleAssignments.length)}-assignment tenant (${fmt(matches)} matches; compiled CEL, the CEL interpreter and the hand-written rules agree on every assignment, json-rules-engine on ${fmt(slice.length)})`);
  console.log(`  what-if end to end (facts, policies, findings)   ${fmt(endToEnd).padStart(10)} assignments/s   ${fmt(whatIf.findings.length)} findings, heap +${mib(heapAfterWhatIf - heapBefore)} while held`);
  console.log(`  building facts alone (snapshot context)          ${fmt(factRate).padStart(10)} assignments/s`);
  console.log(`  evaluation alone, facts prebuilt (median of ${RUNS} runs; json-rules-engine of 3):`);
  console.log(`    hand-written TypeScript predicates (floor)     ${fmt(floor).padStart(10)} assignments/s   1.0×`);
  console.log(`    CEL compiled to JavaScript (what grantguard runs)${fmt(compiled).padStart(8)} assignments/s   ${fmt(floor / compiled, 1)}× the floor`);
  console.log(`    evaluatePolicies (compiled CEL + explanations) ${fmt(explained).padStart(10)} assignments/s   ${fmt(floor / explained, 1)}× the floor`);
  console.log(`    CEL interpreter (cel-js)                       ${fmt(interpreted).padStart(10)} assignments/s   ${fmt(floor / interpreted, 1)}× the floor`);
  console.log(`    json-rules-engine                              ${fmt(jsonRules, 1).padStart(10)} assignments/s   ${fmt(compiled / jsonRules)}× slower than compiled CEL`);
  console.log(`  peak memory of this process so far: ${mib(process.resourceUsage().maxRSS * 1024)} RSS`);
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

/**
 * The grant path in round trips: 50 ms added to every ARM, Graph and Table Storage request (the
 * simulator's fault switch for ARM and Graph, a delaying proxy in front of Azurite), so latency
 * divided by 50 ms counts the sequential round trips a judged event costs.
 */
async function benchRoundTrips(snapshot: TenantSnapshot): Promise<void> {
  const DELAY_MS = 50;
  const local = await startLocalAzure({ snapshot, tls: await loadTrustedLocalTls() });
  const table = new URL(local.settings.GRANTGUARD_TABLE_ENDPOINT!);
  const proxy = new LatencyProxy({ host: table.hostname, port: Number(table.port) }, DELAY_MS);
  await proxy.start();
  const secret = randomBytes(32).toString("hex");
  const receiver = new WebhookReceiver({ secret });
  await receiver.start();
  Object.assign(process.env, local.settings);
  try {
    table.port = String(proxy.port);
    // Two runtimes with tables and caches of their own: each judges the same 60 new assignments,
    // the first through the use case alone, the second as the function does (its alerts sent, its
    // audit trail appended).
    const runtimeWith = (prefix: string) =>
      createRuntime({ ...process.env, GRANTGUARD_TABLE_ENDPOINT: table.toString().replace(/\/$/, ""), GRANTGUARD_FINDINGS_TABLE: `${prefix}findings`, GRANTGUARD_EVENTS_TABLE: `${prefix}events`, GRANTGUARD_ALERTS_TABLE: `${prefix}alerts`, GRANTGUARD_REVOCATIONS_TABLE: `${prefix}rev`, GRANTGUARD_WEBHOOK_URL: receiver.url("/rt"), GRANTGUARD_WEBHOOK_SECRET: secret });
    const [runtime, invoked] = await Promise.all([runtimeWith("rt"), runtimeWith("rtfn")]);
    const targets = snapshot.roleAssignments.filter((a) => a.properties.scope.startsWith("/subscriptions/"));
    const event = (i: number, prefix = "rt") => ({
      id: `${prefix}-${i}`,
      eventType: "Microsoft.Resources.ResourceWriteSuccess",
      eventTime: new Date(Date.UTC(2026, 10, 21, 9, 0, i % 60)).toISOString(),
      subject: targets[i % targets.length]!.id,
      data: { operationName: "Microsoft.Authorization/roleAssignments/write", resourceUri: targets[i % targets.length]!.id, tenantId: snapshot.tenantId },
    });
    const deps = runtime.judge;
    // Warm up without latency: tokens, tables, role definitions (cached, as in a warm instance).
    for (let i = 0; i < 10; i++) await Promise.all([judgeGrantEvent(event(i), deps), invoked.judgeGrantEvent(event(i, "fn"))]);
    local.simulator.faults.add({ route: "arm.*", latencyMs: DELAY_MS });
    local.simulator.faults.add({ route: "graph.*", latencyMs: DELAY_MS });
    const count = Math.min(60, targets.length - 10);
    const judged: number[] = [];
    const alerted: number[] = [];
    let findings = 0;
    for (let i = 0; i < count; i++) {
      let t0 = performance.now();
      await judgeGrantEvent(event(10 + i), deps);
      judged.push(performance.now() - t0);
      t0 = performance.now();
      const outcome = await invoked.judgeGrantEvent(event(10 + i, "fn"));
      alerted.push(performance.now() - t0);
      if (outcome.status === "judged") findings += outcome.open.length;
    }
    const trips = (ms: number[], p: number) => fmt(percentile(ms, p) / DELAY_MS, 1);
    console.log(`\nGrant path in round trips: ${DELAY_MS} ms added to every ARM, Graph and Table Storage request, ${count} new assignments judged twice (${findings} findings opened each time)`);
    console.log(`  judged: read, facts, policies, one commit (+ ledger)   p50 ${trips(judged, 50).padStart(5)} round trips   p99 ${trips(judged, 99).padStart(5)}   (aim: ≤ 4 at p50)`);
    console.log(`  the whole invocation: judged, alerts sent and recorded, audit trail appended   p50 ${trips(alerted, 50).padStart(5)} round trips   p99 ${trips(alerted, 99).padStart(5)}   (the webhook receiver itself has no added latency)`);
  } finally {
    await receiver.stop();
    await proxy.stop();
    await local.stop();
  }
}

async function benchResponse(seed: TenantSnapshot): Promise<void> {
  const local = await startLocalAzure({ snapshot: seed, tls: await loadTrustedLocalTls() });
  const secret = randomBytes(32).toString("hex");
  const receiver = new WebhookReceiver({ secret });
  await receiver.start();
  Object.assign(process.env, local.settings);
  try {
    const settings = {
      ...process.env,
      GRANTGUARD_POLICIES_DIR: `${fileURLToPath(new URL("../policies", import.meta.url))},${fileURLToPath(new URL("../local/demo/revoke-pack", import.meta.url))}`,
      GRANTGUARD_WEBHOOK_URL: receiver.url("/bench"),
      GRANTGUARD_WEBHOOK_SECRET: secret,
      GRANTGUARD_MAX_REVOCATIONS: "1000",
      GRANTGUARD_ALERT_RETRY_BASE_SECONDS: "0",
    };
    const audit = await createRuntime({ ...settings, GRANTGUARD_MODE: "audit", GRANTGUARD_FINDINGS_TABLE: "respauditfindings", GRANTGUARD_EVENTS_TABLE: "respauditevents", GRANTGUARD_ALERTS_TABLE: "respauditalerts", GRANTGUARD_REVOCATIONS_TABLE: "respauditrev" });
    const enforce = await createRuntime({ ...settings, GRANTGUARD_MODE: "enforce", GRANTGUARD_FINDINGS_TABLE: "respfindings", GRANTGUARD_EVENTS_TABLE: "respevents", GRANTGUARD_ALERTS_TABLE: "respalerts", GRANTGUARD_REVOCATIONS_TABLE: "resprev" });
    const PRODUCTION = "/subscriptions/1b6e2c4a-8d3f-4a7b-9c1e-5f2d8a6b3c71";
    const GUEST = "c4e8a2f6-1b3d-4a5c-9e7f-0d2b4c6e8a13";
    const ALICE = "0a6d3f1b-7c2e-4b59-8e1d-4f6a2b3c9d71";
    const grantEvent = (i: number) => {
      const a = local.simulator.grant({ scope: `${PRODUCTION}/resourceGroups/rg-web-prod/providers/Microsoft.Web/sites/bench${i}`, roleDefinitionId: `${PRODUCTION}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`, principalId: GUEST, principalType: "User" }, ALICE);
      return { id: `resp-${i}`, eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: new Date().toISOString(), subject: a.id, data: { operationName: "Microsoft.Authorization/roleAssignments/write", resourceUri: a.id, tenantId: seed.tenantId } };
    };
    const timed = async (runtime: Runtime, count: number, offset: number) => {
      const ms: number[] = [];
      for (let i = 0; i < count; i++) {
        const event = grantEvent(offset + i);
        const t0 = performance.now();
        const outcome = await runtime.judgeGrantEvent(event);
        ms.push(performance.now() - t0);
        if (runtime === enforce && !(outcome.status === "judged" && outcome.revocation?.status === "deleted")) throw new Error(`event ${event.id} was not revoked`);
      }
      return ms;
    };
    await timed(audit, 10, 0); // warm-up
    await timed(enforce, 10, 100);
    const auditMs = await timed(audit, REVOCATIONS, 1_000);
    const enforceMs = await timed(enforce, REVOCATIONS, 10_000);

    // Alert delivery from the outbox: every finding of the demo tenant, pending (as a sweep or an
    // outage leaves them), delivered by the timer's round. Each run writes them into fresh tables.
    const pendingOutbox = async (run: string, threshold: number) => {
      const runtime = await createRuntime({ ...settings, GRANTGUARD_FINDINGS_TABLE: `outboxfindings${run}`, GRANTGUARD_EVENTS_TABLE: `outboxevents${run}`, GRANTGUARD_ALERTS_TABLE: `outboxalerts${run}`, GRANTGUARD_REVOCATIONS_TABLE: `outboxrev${run}`, GRANTGUARD_ALERT_ROUTES: JSON.stringify([{ channels: ["webhook"] }]), GRANTGUARD_ALERT_SUMMARY_THRESHOLD: String(threshold) });
      // A warm instance: the alerts table exists and the token is at hand before the round is timed.
      await runtime.services.deliveries.list({ status: "failed" });
      const whatIf = await evaluateSnapshot(seed, runtime.pack, { now: new Date() });
      const pending = whatIf.findings.slice(0, ALERTS);
      for (const assignmentId of new Set(pending.map((f) => f.assignmentId))) {
        const record = await runtime.services.findings.read(assignmentId);
        await runtime.services.findings.commit(record, { state: { lastEventTime: new Date().toISOString(), deletedAt: null }, findings: pending.filter((f) => f.assignmentId === assignmentId) });
      }
      return { runtime, pending };
    };
    const OUTBOX_RUNS = 5;
    const outboxRates: number[] = [];
    const directRates: number[] = [];
    const concurrentRates: number[] = [];
    let findings: Finding[] = [];
    for (let run = 0; run < OUTBOX_RUNS; run++) {
      // One message per alert (no summary), so that the outbox and the bare POSTs send the same messages.
      const { runtime, pending } = await pendingOutbox(`a${run}`, 1_000_000);
      findings = pending;
      receiver.reset();
      const t0 = performance.now();
      const report = await runtime.dispatchAlerts();
      outboxRates.push(report.delivered / ((performance.now() - t0) / 1000));
      if (receiver.uniqueDeliveries().length !== pending.length || report.messages !== pending.length) throw new Error(`the receiver accepted ${receiver.uniqueDeliveries().length} of ${pending.length} alerts`);
      // Baselines in the same process: the same alerts, each built into its signed message and posted
      // straight to the receiver, no outbox: one at a time, and as many in flight as the outbox sends at once.
      const sender = new HttpAlertSender();
      const alerts = pending.map((f) => alertFromFinding(f, "audit"));
      const post = (a: Alert) => sender.send(formatMessage("webhook", { url: receiver.url("/direct"), secret }, [a], Math.floor(Date.now() / 1000)));
      let t1 = performance.now();
      for (const a of alerts) await post(a);
      directRates.push(alerts.length / ((performance.now() - t1) / 1000));
      t1 = performance.now();
      await mapConcurrently(alerts, SEND_CONCURRENCY, post);
      concurrentRates.push(alerts.length / ((performance.now() - t1) / 1000));
    }
    const [outboxRate, directRate, concurrentRate] = [median(outboxRates), median(directRates), median(concurrentRates)];

    // The same round with summaries on (the default threshold): a bulk change is one message per channel.
    const bulk = await pendingOutbox("s", Number(process.env.GRANTGUARD_ALERT_SUMMARY_THRESHOLD ?? 20));
    receiver.reset();
    const t2 = performance.now();
    const summarized = await bulk.runtime.dispatchAlerts();
    const summaryMs = performance.now() - t2;
    if (summarized.delivered !== bulk.pending.length) throw new Error(`the summary round delivered ${summarized.delivered} of ${bulk.pending.length} alerts`);

    console.log(`\nResponse: ${REVOCATIONS} guest Owner grants judged in audit and in enforce mode, through the real SDK clients against the simulator`);
    console.log(`  event judged and alerted, audit mode          p50 ${fmt(percentile(auditMs, 50), 2).padStart(7)} ms   p99 ${fmt(percentile(auditMs, 99), 2).padStart(7)} ms`);
    console.log(`  event to completed revocation, enforce mode   p50 ${fmt(percentile(enforceMs, 50), 2).padStart(7)} ms   p99 ${fmt(percentile(enforceMs, 99), 2).padStart(7)} ms   ${fmt(percentile(enforceMs, 50) / percentile(auditMs, 50), 2)}× audit (backup, cap check, ARM delete, records)`);
    console.log(`Alert delivery: ${fmt(findings.length)} pending findings delivered by the timer's round as signed webhook alerts to a local receiver (medians of ${OUTBOX_RUNS} runs)`);
    console.log(`  from the outbox, one message per alert (read, claim, send ${SEND_CONCURRENCY} at a time, record, clear)   ${fmt(outboxRate, 1).padStart(8)} alerts/s`);
    console.log(`  the same alerts signed and posted directly, ${SEND_CONCURRENCY} in flight (baseline)   ${fmt(concurrentRate, 1).padStart(8)} alerts/s   the outbox costs ${fmt(concurrentRate / outboxRate, 1)}× a bare signed POST at the same concurrency (aim: ≤ 3×)`);
    console.log(`  the same alerts signed and posted directly, one at a time      ${fmt(directRate, 1).padStart(8)} alerts/s   (${fmt(directRate / outboxRate, 1)}× the outbox's cost)`);
    console.log(`  with summaries (more than ${bulk.runtime.config.response.alertSummaryThreshold} alerts for a channel in one round): ${fmt(summarized.delivered)} alerts in ${fmt(summarized.messages)} message(s), ${fmt(summaryMs)} ms, every alert recorded as delivered`);
  } finally {
    await receiver.stop();
    await local.stop();
  }
}

// Started by local/trusted.ts over an IPC channel: stop when the launcher is gone, and let the channel not hold the process open.
process.on("disconnect", () => process.exit(130));
process.channel?.unref();

const snapshot = await readTenantSnapshot(DEMO);
const policies = await loadPolicies(fileURLToPath(new URL("../policies", import.meta.url)));
if (!process.env.BENCH_SECTION_ALONE) console.log(`grantguard bench — Node ${process.version}, ${new Date().toISOString()}`);
/**
 * Cold start: how long the Functions host takes to import the app's entry file (the bundle that
 * `npm run build` makes), and then to make the runtime ready on the first invocation (the SDKs,
 * the clients, the built-in pack loaded and compiled), each in a fresh Node process, against the
 * floor of merely importing the four Azure SDK packages the app uses.
 */
async function benchColdStart(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const out = await mkdtemp(join(root, "dist", "bench-bundle-"));
  try {
    await promisify(execFile)("npm", ["run", "-s", "bundle", "--", `--outdir=${out}`], { cwd: root });
    const timeIn = async (script: string): Promise<number> => {
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", `const t0 = performance.now(); ${script}; process.stdout.write(String(performance.now() - t0));`], { cwd: root, env: { ...process.env, GRANTGUARD_TABLE_ENDPOINT: "https://bench.table.core.windows.net" } });
      return Number(stdout.trim().split("\n").pop());
    };
    const url = (file: string) => JSON.stringify(pathToFileURL(join(out, file)).href);
    const runs = { floor: [] as number[], entry: [] as number[], ready: [] as number[] };
    for (let i = 0; i < 7; i++) {
      runs.floor.push(await timeIn(`await Promise.all(["@azure/functions", "@azure/data-tables", "@azure/arm-authorization", "@azure/identity"].map((m) => import(m)))`));
      runs.entry.push(await timeIn(`await import(${url("app.js")})`));
      runs.ready.push(await timeIn(`const { createRuntime } = await import(${url("runtime.js")}); await createRuntime()`));
    }
    const [floor, entry, ready] = [median(runs.floor), median(runs.entry), median(runs.ready)];
    console.log("\nCold start: fresh Node processes, medians of 7 (the bundle npm run build makes)");
    console.log(`  import the four Azure SDK packages (the floor)        ${fmt(floor, 1).padStart(7)} ms   1.00×`);
    console.log(`  import the app's entry file (what the host loads)     ${fmt(entry, 1).padStart(7)} ms   ${fmt(entry / floor, 2)}× the floor   (aim: < 0.75×)`);
    console.log(`  first invocation: runtime ready (SDKs, clients, pack) ${fmt(ready, 1).padStart(7)} ms   ${fmt(ready / floor, 2)}× the floor`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Lists every assignment of a scaled tenant through the local Resource Graph with Azure's quota enforced, against the quota's floor. */
async function benchResourceGraph(seed: TenantSnapshot): Promise<void> {
  const snapshot = scaleTenant(seed, RESOURCE_GRAPH_ASSIGNMENTS);
  const local = await startLocalAzure({ snapshot, tls: await loadTrustedLocalTls() });
  Object.assign(process.env, local.settings);
  try {
    const quota = local.simulator.resourceGraph.quota;
    const credential = createManagedIdentityCredential({ clientId: undefined, timeoutMs: 10_000 });
    const endpoint = local.settings.GRANTGUARD_ARM_ENDPOINT!;
    const inventory = new ResourceGraphInventory(createResourceGraphClient(credential, endpoint), createAuthorizationClient(credential, endpoint));
    await credential.getToken("https://management.azure.com/.default");
    const started = performance.now();
    let listed = 0;
    for await (const page of inventory.listRoleAssignments()) listed += page.length;
    const seconds = (performance.now() - started) / 1000;
    const answers = local.simulator.requests.filter((r) => r.route === "resourceGraph.resources");
    const pages = answers.filter((r) => r.status === 200).length;
    const throttled = answers.filter((r) => r.status === 429).length;
    if (listed !== snapshot.roleAssignments.length) throw new Error(`the inventory listed ${listed} of ${snapshot.roleAssignments.length} assignments`);
    const floor = (pages / quota.queries) * (quota.windowMs / 1000);
    console.log(`\nResource Graph: list ${fmt(listed)} assignments, ${quota.queries} queries per ${fmt(quota.windowMs / 1000)} s enforced`);
    console.log(`  ${pages} pages in ${fmt(seconds, 1)} s (${fmt(pages / seconds, 2)} pages/s), ${throttled} answered 429`);
    console.log(`  quota floor (pages ÷ queries per window × window)   ${fmt(floor, 1)} s   ${fmt(seconds / floor, 2)}× the floor   (aim: ≤ 1.3×)`);
  } finally {
    await local.stop();
  }
}

// BENCH_ONLY=roundTrips,response runs only the sections named (all by default).
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const sections: Record<string, () => Promise<void>> = {
  coldStart: () => benchColdStart(),
  policies: () => benchPolicies(snapshot, policies),
  grantPath: () => benchGrantPath(snapshot),
  roundTrips: () => benchRoundTrips(snapshot),
  response: () => benchResponse(snapshot),
  commandLine: () => benchCommandLine(snapshot),
  resourceGraph: () => benchResourceGraph(snapshot),
  sweep: () => benchSweep(snapshot),
  findingsQuery: () => benchFindingsQuery(snapshot),
  auditTrail: () => benchAuditTrail(snapshot),
};
/**
 * Runs one section in a process of its own (this file, as this process was started, over an IPC channel so that it stops when this one does), its output
 * in line with this one's. Sections start local Azures of their own, and MSAL keeps the first
 * managed-identity endpoint a process used for the life of the process; a process per section also
 * keeps one section's heap out of the next one's figures.
 */
function runAlone(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_ONLY: name, BENCH_SECTION_ALONE: "1" }, stdio: ["inherit", "inherit", "inherit", "ipc"] });
    child.once("error", reject);
    child.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`the ${name} section failed (${signal ?? `exit ${code}`})`))));
  });
}

const selected = Object.keys(sections).filter((name) => !only || only.includes(name));
if (selected.length === 1) await sections[selected[0]!]!();
else for (const name of selected) await runAlone(name);
