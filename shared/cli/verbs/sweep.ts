import { randomUUID } from "node:crypto";
import { BUILT_IN_POLICIES_DIR } from "../../config.js";
import { DEFAULT_LOOKBACK_DAYS } from "../../facts/sweepFacts.js";
import { readTenantSnapshot } from "../../model/snapshot.js";
import { loadPolicyPack } from "../../policy/load.js";
import { judgePartition, partitionInventory } from "../../usecases/sweep.js";
import { snapshotInventory } from "../../usecases/sweepSnapshot.js";
import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { describeFinding, failOnSchema, outputOrder, Tally, writeFindings } from "../findingsOutput.js";
import { count, nestedJson } from "../format.js";
import { EXIT } from "../io.js";
import { progressBar } from "../progress.js";
import { Spool } from "../spool.js";
import type { Verb, VerbContext } from "../verb.js";
import { z } from "zod";
import { ConfigError } from "../../errors.js";
import { dryRunFindings, sweepInPlace } from "../../usecases/sweepRun.js";


const usage = `Usage: grantguard sweep [--write] [--policies DIRS] [--lookback-days N] [--json] [--all] [--fail-on SEVERITY]
       grantguard sweep --tenant FILE [--policies DIRS] [--now ISO] [--lookback-days N] [--json] [--all] [--fail-on SEVERITY]

Without --tenant, the live standing sweep, here and now: reads every role assignment of the
tenant from Resource Graph (the root's from ARM), the principals from Microsoft Graph, PIM from
ARM and the logs from Log Analytics, with your own Azure sign-in (or npm start's local Azure),
judges them as the function app's sweep does, and compares with the findings grantguard stores.
It is a dry run: it reports what it would write and writes nothing, unless --write is given
(then it commits like a run of the sweepTenant timer, conditionally, partition by partition).
You need Reader on the tenant root group (Resource Graph and PIM), Directory.Read.All in
Graph, Log Analytics Reader on the workspace, and Storage Table Data Reader on grantguard's
storage account (Contributor with --write).

With --tenant FILE, the standing sweep offline: judges every role assignment of a tenant snapshot — management-group
and root grants included — and every subscription as a whole, with the facts only a sweep knows
(last sign-in, operations used, unused privileged actions, the narrowest built-in role, whether
the granter was seen granting before), read from the snapshot's "logs" section as the live sweep
reads them from Log Analytics. Nothing in Azure is read or changed. Findings come most severe
first with their reasons, and the run ends with a summary line.

  --write              live: write what changed to grantguard's findings (default: a dry run)
  --tenant FILE        tenant snapshot with its logs (see the README's "Tenant snapshots")
  --policies DIRS      policy directories, comma-separated (default: the built-in pack)
  --now ISO            judge as of this time (default: now); the logs' windows end here
  --lookback-days N    how far back the logs are read (default 90)
  --json               print {"findings":[…],"summary":{…}}, streamed
  --all                also list exempted matches in the text output
  --fail-on SEV        exit 1 when an open finding is at or above SEV (default low; "never")`;

/** grantguard sweep: the standing sweep over a tenant snapshot and its logs. */
export const sweep: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values } = parse(argv, { tenant: { type: "string" }, write: { type: "boolean" }, policies: { type: "string" }, now: { type: "string" }, "lookback-days": { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" }, "fail-on": { type: "string" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const tenantFile = stringOption(values.tenant);
    if (tenantFile !== undefined && values.write === true) throw new UsageError("--write applies to the live sweep only: a snapshot sweep writes nothing");
    if (tenantFile === undefined && stringOption(values.now) !== undefined) throw new UsageError("--now applies to a snapshot sweep only: the live sweep judges as of now");
    const failOn = failOnSchema.safeParse(values["fail-on"] ?? "low");
    if (!failOn.success) throw new UsageError(`--fail-on must be one of ${failOnSchema.options.join(", ")}`);
    const nowText = stringOption(values.now);
    const now = nowText === undefined ? new Date() : new Date(nowText);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--now must be an ISO 8601 time, got '${nowText}'`);
    const lookbackText = stringOption(values["lookback-days"]) ?? String(DEFAULT_LOOKBACK_DAYS);
    const lookbackDays = Number(lookbackText);
    if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > 730) throw new UsageError(`--lookback-days must be a whole number of days from 1 to 730, got '${lookbackText}'`);
    const asJson = values.json === true;
    const all = values.all === true;
    const showProgress = io.terminal.stderr && !(asJson && !io.terminal.stdout);
    if (tenantFile === undefined) return liveSweep(context, { policiesDir: stringOption(values.policies) ?? BUILT_IN_POLICIES_DIR, lookbackDays, write: values.write === true, asJson, all, failOn: failOn.data, showProgress });

    if (showProgress) io.status(`reading ${tenantFile}…`);
    const [snapshot, pack] = await Promise.all([readTenantSnapshot(tenantFile), loadPolicyPack(stringOption(values.policies) ?? BUILT_IN_POLICIES_DIR)]);
    const { inventory, evidence } = await snapshotInventory(snapshot, { now, lookbackDays });
    // A partial or missing answer is said, never used as if complete: the facts it feeds stay null.
    for (const [question, answer] of [["sign-ins", evidence.signIns], ["operations", evidence.operations], ["grants", evidence.grants]] as const) {
      if (answer.status === "partial") io.err(`logs: the ${question} are partial (${answer.error}): the facts they feed are null`);
      if (answer.status === "unavailable") io.err(`logs: no ${question} (${answer.reason}): the facts they feed are null`);
    }

    const spool = new Spool();
    const tally = new Tally();
    const progress = showProgress ? progressBar(io, "sweeping") : null;
    const deps = { policies: pack.policies, exemptions: pack.exemptions, now, runId: randomUUID() };
    let judged = 0;
    let errors = 0;
    try {
      const slices = partitionInventory(inventory);
      const total = inventory.assignments.length + inventory.subscriptionIds.length;
      // A fresh store: what the sweep would hold after one run over this tenant.
      for (const slice of slices) {
        const result = await judgePartition(slice, [], inventory, deps);
        for (const f of result.holding) {
          tally.add(f);
          if (asJson) spool.add(f.policyId, `,\n    ${nestedJson(f, 2)}`);
          else if (f.status === "open" || all) spool.add(f.policyId, `${describeFinding(f)}\n`);
        }
        for (const e of result.errors) if (++errors <= 20) io.err(`evaluation error: ${e.policyId} on ${e.subjectId}: ${e.message}`);
        judged += slice.assignments.length + slice.subscriptionIds.length;
        progress?.update(judged, total, () => `${count(tally.openTotal + tally.exempted)} findings`);
      }
      progress?.finish();
      const summary = `${tally.line(inventory.assignments.length, pack.policies.length, all)} Swept ${count(inventory.subscriptionIds.length)} subscription(s) and ${count(slices.length)} partition(s) as of ${now.toISOString()}.`;
      const order = outputOrder(pack);
      const totals = { assignments: inventory.assignments.length, subscriptions: inventory.subscriptionIds.length, policies: pack.policies.length, open: tally.open, exempted: tally.exempted, evaluationErrors: errors };
      await writeFindings(io, spool, order, { json: asJson, totals, summary });
    } finally {
      progress?.finish();
      spool.dispose();
    }
    if (failOn.data === "never") return EXIT.ok;
    return tally.reaches(failOn.data) ? EXIT.findings : EXIT.ok;
  },
};

const liveSettingsSchema = z.object({
  GRANTGUARD_TABLE_ENDPOINT: z.string().min(1),
  GRANTGUARD_ARM_ENDPOINT: z.string().default("https://management.azure.com"),
  GRANTGUARD_GRAPH_ENDPOINT: z.string().default("https://graph.microsoft.com"),
  GRANTGUARD_FINDINGS_TABLE: z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be a valid table name").default("findings"),
  GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: z.guid({ message: "must be the Log Analytics workspace id (a GUID)" }).optional(),
  GRANTGUARD_LOG_ANALYTICS_ENDPOINT: z.string().default("https://api.loganalytics.io/v1"),
});

/** The live sweep in this process: judged against the stored findings, written only with --write. */
async function liveSweep(context: VerbContext, options: { readonly policiesDir: string; readonly lookbackDays: number; readonly write: boolean; readonly asJson: boolean; readonly all: boolean; readonly failOn: z.infer<typeof failOnSchema>; readonly showProgress: boolean }): Promise<number> {
  const { io } = context;
  // The Azure SDKs load only when the live sweep runs (a snapshot sweep never needs them).
  const [{ operatorConnection }, { createFindingsStore, createSweepReader }] = await Promise.all([import("../azure.js"), import("../../azure/compose.js")]);
  const [{ credential, settings: raw }, pack] = await Promise.all([operatorConnection(context), loadPolicyPack(options.policiesDir)]);
  const parsed = liveSettingsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid settings: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const s = parsed.data;
  const logAnalytics = s.GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID ? { workspaceId: s.GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID, endpoint: s.GRANTGUARD_LOG_ANALYTICS_ENDPOINT } : null;
  context.azure.push(
    { name: "Azure Resource Manager", endpoint: s.GRANTGUARD_ARM_ENDPOINT, needs: "Reader on the tenant root group (Resource Graph, role assignments, PIM schedules)" },
    { name: "Microsoft Graph", endpoint: s.GRANTGUARD_GRAPH_ENDPOINT, needs: "Directory.Read.All" },
    { name: "Table Storage", endpoint: s.GRANTGUARD_TABLE_ENDPOINT, needs: options.write ? "Storage Table Data Contributor" : "Storage Table Data Reader" },
    ...(logAnalytics ? [{ name: "Log Analytics", endpoint: logAnalytics.endpoint, needs: "Log Analytics Reader on the workspace" }] : []),
  );
  if (!logAnalytics) io.err("logs: no Log Analytics workspace (GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID): sign-in and activity facts are null");
  const stored = createFindingsStore(s.GRANTGUARD_TABLE_ENDPOINT, s.GRANTGUARD_FINDINGS_TABLE, credential);
  const dry = options.write ? null : dryRunFindings(stored);
  const reader = createSweepReader({ armEndpoint: s.GRANTGUARD_ARM_ENDPOINT, graphEndpoint: s.GRANTGUARD_GRAPH_ENDPOINT, logAnalytics }, credential);

  const spool = new Spool();
  const tally = new Tally();
  const progress = options.showProgress ? progressBar(io, options.write ? "sweeping" : "sweeping (dry run)") : null;
  if (options.showProgress) io.status("planning: Resource Graph, role definitions, logs…");
  try {
    const run = await sweepInPlace(reader, dry ?? stored, { policies: pack.policies, exemptions: pack.exemptions, clock: () => new Date() }, { shardAssignments: 10_000, lookbackDays: options.lookbackDays }, {
      finding(f) {
        tally.add(f);
        if (options.asJson) spool.add(f.policyId, `,\n    ${nestedJson(f, 2)}`);
        else if (f.status === "open" || options.all) spool.add(f.policyId, `${describeFinding(f)}\n`);
      },
      shard: (done, total) => progress?.update(done, total, () => `${count(tally.openTotal + tally.exempted)} findings`),
    });
    progress?.finish();
    for (const gap of run.evidenceGaps) io.err(`logs: ${gap}: the facts it feeds are null`);
    const c = run.counts;
    const change = options.write ? `Wrote ${count(c.findingWrites)} finding row(s) (${count(c.opened)} opened, ${count(c.resolved)} resolved).` : `Dry run: would write ${count(c.findingWrites)} finding row(s) (${count(c.opened)} opened, ${count(c.resolved)} resolved); nothing was written (--write to commit).`;
    const calls = `Calls: Resource Graph ${run.calls.resourceGraph}, ARM ${run.calls.arm}, Graph ${run.calls.graph}, Log Analytics ${run.calls.logAnalytics}.`;
    const summary = `${tally.line(c.assignments, pack.policies.length, options.all)} Swept ${count(c.subscriptions)} subscription(s) in ${count(c.partitions)} partition(s). ${change} ${calls}`;
    const totals = { assignments: c.assignments, subscriptions: c.subscriptions, policies: pack.policies.length, open: tally.open, exempted: tally.exempted, evaluationErrors: c.evaluationErrors, findingWrites: c.findingWrites, opened: c.opened, resolved: c.resolved, written: options.write, calls: run.calls, runId: run.runId };
    await writeFindings(io, spool, outputOrder(pack), { json: options.asJson, totals, summary });
  } finally {
    progress?.finish();
    spool.dispose();
  }
  if (options.failOn === "never") return EXIT.ok;
  return tally.reaches(options.failOn) ? EXIT.findings : EXIT.ok;
}
