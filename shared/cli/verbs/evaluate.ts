import { readFile } from "node:fs/promises";
import { describeError, SnapshotError } from "../../errors.js";
import type { GrantedBy } from "../../model/event.js";
import { parseGrantEvent } from "../../model/event.js";
import { readTenantSnapshot, type TenantSnapshot } from "../../model/snapshot.js";
import { BUILT_IN_POLICIES_DIR } from "../../config.js";
import { loadPolicyPack } from "../../policy/load.js";
import { streamSnapshotEvaluation } from "../../usecases/evaluateSnapshot.js";
import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { count, nestedJson } from "../format.js";
import { describeFinding, failOnSchema, outputOrder, Tally, writeFindings } from "../findingsOutput.js";
import { EXIT } from "../io.js";
import { progressBar } from "../progress.js";
import { Spool } from "../spool.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard evaluate --tenant FILE [--event FILE] [--policies DIRS] [--json] [--all] [--fail-on SEVERITY]

The what-if: evaluates every policy (and the exemptions beside them) against every role
assignment of a tenant snapshot, or only the one an Event Grid / CloudEvents event points at.
Nothing in Azure is read or changed. Findings come most severe first, then by policy and
scope, and the run ends with a summary line. On a terminal, a progress bar shows on stderr.

  --tenant FILE      tenant snapshot (see the README's "Tenant snapshots")
  --event FILE       judge only the assignment this event names, granted by its caller
  --policies DIRS    policy directories, comma-separated (default: the built-in pack)
  --json             print {"findings":[…],"summary":{…}} with the fields stored in Table
                     Storage, streamed (any size); the summary line goes to stderr
  --all              also list exempted matches in the text output (JSON always has them)
  --fail-on SEV      exit 1 when an open finding is at or above SEV (low|medium|high|critical;
                     default low); "never" always exits 0`;

const MAX_ERRORS_SHOWN = 20;

/** The assignment an event file names, and who the event says granted it. */
async function eventTarget(file: string, tenantFile: string, snapshot: TenantSnapshot): Promise<{ assignmentIds: Set<string>; grantedBy: GrantedBy }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new SnapshotError(`cannot read the event ${file}: ${describeError(error)}`, { cause: error });
  }
  const parsed = parseGrantEvent(Array.isArray(raw) && raw.length === 1 ? raw[0] : raw);
  if (parsed.status === "rejected") throw new SnapshotError(`${file}: ${parsed.reason}`);
  if (parsed.event.kind === "delete") throw new SnapshotError(`${file} is a delete event: there is nothing to evaluate`);
  const wanted = parsed.event.assignmentId.toLowerCase();
  if (!snapshot.roleAssignments.some((a) => a.id.toLowerCase() === wanted)) throw new SnapshotError(`${file} names ${parsed.event.assignmentId}, which ${tenantFile} does not contain`);
  return { assignmentIds: new Set([parsed.event.assignmentId]), grantedBy: parsed.event.grantedBy };
}

/** grantguard evaluate: the what-if over a tenant snapshot. */
export const evaluate: Verb = {
  usage,

  async run(argv, { io }) {
    const { values } = parse(argv, { tenant: { type: "string" }, event: { type: "string" }, policies: { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" }, "fail-on": { type: "string" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const tenantFile = stringOption(values.tenant);
    if (tenantFile === undefined) throw new UsageError("evaluate needs --tenant FILE");
    const failOn = failOnSchema.safeParse(values["fail-on"] ?? "low");
    if (!failOn.success) throw new UsageError(`--fail-on must be one of ${failOnSchema.options.join(", ")}`);
    const asJson = values.json === true;
    const all = values.all === true;
    // A progress bar only where a person watches: stderr on a terminal, and not while JSON is piped to a program.
    const showProgress = io.terminal.stderr && !(asJson && !io.terminal.stdout);

    if (showProgress) io.status(`reading ${tenantFile}…`);
    const [snapshot, pack] = await Promise.all([readTenantSnapshot(tenantFile), loadPolicyPack(stringOption(values.policies) ?? BUILT_IN_POLICIES_DIR)]);
    const eventFile = stringOption(values.event);
    const target = eventFile === undefined ? undefined : await eventTarget(eventFile, tenantFile, snapshot);

    // Each policy's findings wait in their own bucket; the buckets come out most severe first.
    const order = outputOrder(pack);
    const spool = new Spool();
    const tally = new Tally();
    const progress = showProgress ? progressBar(io, "evaluating") : null;
    let errors = 0;
    try {
      const { assignments } = await streamSnapshotEvaluation(snapshot, pack, { now: new Date(), ...(target ?? {}) }, {
        finding(f) {
          tally.add(f);
          if (asJson) spool.add(f.policyId, `,\n    ${nestedJson(f, 2)}`);
          else if (f.status === "open" || all) spool.add(f.policyId, `${describeFinding(f)}\n`);
        },
        evaluationError(e) {
          errors += 1;
          if (errors <= MAX_ERRORS_SHOWN) io.err(`evaluation error: ${e.policyId} on ${e.assignmentId}: ${e.message}`);
        },
        progress(done, total) {
          progress?.update(done, total, () => `${count(tally.openTotal + tally.exempted)} findings`);
        },
      });
      progress?.finish();
      if (errors > MAX_ERRORS_SHOWN) io.err(`… and ${count(errors - MAX_ERRORS_SHOWN)} more evaluation error(s)`);
      const summary = tally.line(assignments, pack.policies.length, all);
      const totals = { assignments, policies: pack.policies.length, open: tally.open, exempted: tally.exempted, evaluationErrors: errors };
      await writeFindings(io, spool, order, { json: asJson, totals, summary });
    } finally {
      progress?.finish();
      spool.dispose();
    }
    if (failOn.data === "never") return EXIT.ok;
    return tally.reaches(failOn.data) ? EXIT.findings : EXIT.ok;
  },
};
