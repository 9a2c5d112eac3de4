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
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard sweep --tenant FILE [--policies DIRS] [--now ISO] [--lookback-days N] [--json] [--all] [--fail-on SEVERITY]

The standing sweep, offline: judges every role assignment of a tenant snapshot — management-group
and root grants included — and every subscription as a whole, with the facts only a sweep knows
(last sign-in, operations used, unused privileged actions, the narrowest built-in role, whether
the granter was seen granting before), read from the snapshot's "logs" section as the live sweep
reads them from Log Analytics. Nothing in Azure is read or changed. Findings come most severe
first with their reasons, and the run ends with a summary line.

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

  async run(argv, { io }) {
    const { values } = parse(argv, { tenant: { type: "string" }, policies: { type: "string" }, now: { type: "string" }, "lookback-days": { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" }, "fail-on": { type: "string" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const tenantFile = stringOption(values.tenant);
    if (tenantFile === undefined) throw new UsageError("sweep needs --tenant FILE (the live sweep runs in the function app on its timer)");
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
