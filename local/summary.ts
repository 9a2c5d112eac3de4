import type { Finding } from "../shared/model/finding.js";
import { SEVERITIES } from "../shared/model/severity.js";
import type { Delivery } from "../shared/response/deliveries.js";

/**
 * The one line that ends a run of npm start: open findings by severity (most severe first), the
 * exempted and resolved ones, and the alerts sent, the digest included, with any that failed or
 * still wait.
 */
export function runSummary(findings: readonly Finding[], deliveries: readonly Delivery[], digest: { readonly sent: number; readonly alerts: number }): string {
  const open = findings.filter((f) => f.status === "open");
  const bySeverity = [...SEVERITIES].reverse().map((s) => `${open.filter((f) => f.severity === s).length} ${s}`).join(", ");
  const count = (status: Finding["status"]) => findings.filter((f) => f.status === status).length;
  const sent = deliveries.filter((d) => d.status === "delivered").length;
  const failed = deliveries.filter((d) => d.status === "failed").length;
  const waiting = deliveries.filter((d) => d.status === "pending" || d.status === "digest").length;
  const inDigest = digest.alerts ? ` (${digest.alerts} of them in ${digest.sent} digest message${digest.sent === 1 ? "" : "s"})` : "";
  return `summary: ${open.length} open finding(s) (${bySeverity}), ${count("exempted")} exempted, ${count("resolved")} resolved; ${sent} alert(s) sent${inDigest}, ${failed} failed, ${waiting} waiting`;
}

/** One sweep of npm start -- --sweep, as the report lists it. */
export interface SweepReport {
  readonly id: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly assignments: number;
  readonly principals: number;
  readonly shards: number;
  /** Requests the run's own SDK clients sent, counted in their pipelines (retries included). */
  readonly calls: { readonly resourceGraph: number; readonly arm: number; readonly graph: number; readonly logAnalytics: number };
  readonly findingWrites: number;
  readonly resolved: number;
  /** Alert deliveries the run's changes created (one per alert and channel). */
  readonly alerts: number;
  readonly evidenceGaps: readonly string[];
}

/** The one line a sweep prints. */
export function sweepSummary(sweep: SweepReport): string {
  const c = sweep.calls;
  const gaps = sweep.evidenceGaps.length ? `; logs incomplete: ${sweep.evidenceGaps.join("; ")}` : "";
  return `sweep ${sweep.id} ${sweep.status}: ${sweep.assignments} assignment(s), ${sweep.principals} principal(s) in ${sweep.shards} shard(s), ${sweep.findingWrites} finding write(s), ${sweep.resolved} resolved, ${sweep.alerts} alert(s) in ${sweep.durationMs ?? "?"} ms; calls: Resource Graph ${c.resourceGraph}, ARM ${c.arm}, Graph ${c.graph}, Log Analytics ${c.logAnalytics}${gaps}`;
}
