import { createHash } from "node:crypto";
import type { Alert, AlertTransition, ResponseTaken } from "../alert.js";
import type { Severity } from "../../model/severity.js";
import { IDEMPOTENCY_KEY_HEADER } from "./types.js";

/** Digests list at most this many alerts; the rest are counted ("and N more"). */
export const DIGEST_MAX_ENTRIES = 25;
/** Reasons longer than this are cut (single-alert messages). */
export const REASON_MAX_CHARS = 1_000;
/** Reasons in a digest entry are cut shorter, so the digest stays compact. */
export const DIGEST_REASON_MAX_CHARS = 200;

/**
 * The idempotency key of a message: the alert's id for one alert; for several, the sha256 of
 * their ids, sorted (so the order they were gathered in does not change the key) and joined.
 */
export function idempotencyKey(alerts: readonly Alert[]): string {
  const [only, ...rest] = alerts;
  if (only === undefined) throw new RangeError("a message needs at least one alert");
  if (rest.length === 0) return only.id;
  const ids = alerts.map((a) => a.id).sort();
  return createHash("sha256").update(ids.join("\n")).digest("hex");
}

/** Throws unless there is at least one alert: an empty message tells nobody anything. */
export function requireAlerts(alerts: readonly Alert[]): void {
  if (alerts.length === 0) throw new RangeError("a message needs at least one alert");
}

/** Cuts text to at most max UTF-16 units, ending with an ellipsis when cut, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, Math.max(0, max));
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

export function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}

const TRANSITION_LABELS: Readonly<Record<AlertTransition, string>> = {
  opened: "Opened",
  exempted: "Exempted",
  resolved: "Resolved",
};

export function transitionLabel(transition: AlertTransition): string {
  return TRANSITION_LABELS[transition];
}

/** Who got the role, e.g. "Alice Smith (User 1111…)". */
export function principalText(alert: Alert): string {
  const { name, type, id } = alert.principal;
  return name === null || name === "" ? `${type} ${id}` : `${name} (${type} ${id})`;
}

/** Short form for one-line summaries. */
export function principalShort(alert: Alert): string {
  const { name, id } = alert.principal;
  return name === null || name === "" ? id : name;
}

/** Who granted it, with the caller's IP address when the activity log recorded one. */
export function granterText(alert: Alert): string {
  const who = alert.grantedBy ?? "unknown";
  return alert.grantedByIpAddress === null ? who : `${who} from ${alert.grantedByIpAddress}`;
}

export function scopeText(alert: Alert): string {
  return `${alert.scope} (${alert.scopeLevel})`;
}

export function policyText(alert: Alert): string {
  return `${alert.policyTitle} (${alert.policyId})`;
}

/** The one-line title of an alert: what was granted to whom, by state change. */
export function titleText(alert: Alert): string {
  const role = alert.role.name;
  const who = principalShort(alert);
  switch (alert.transition) {
    case "opened":
      return `${role} granted to ${who}`;
    case "exempted":
      return `Exempted: ${role} granted to ${who}`;
    case "resolved":
      return `Resolved: ${role} granted to ${who}`;
  }
}

/** What grantguard did, said plainly. */
export function responseText(response: ResponseTaken): string {
  switch (response.kind) {
    case "alerted":
      return "Alerted";
    case "revoked":
      return `Revoked (backup ${response.backupId})`;
    case "wouldRevoke": {
      const base = "Would have revoked — audit mode: set GRANTGUARD_MODE=enforce to revoke";
      return response.detail === "" ? base : `${base} (${response.detail})`;
    }
    case "revoking":
      return `Revoking: ${response.detail}`;
    case "revocationBlocked":
      return `Revocation blocked: ${response.detail}`;
    case "revocationFailed":
      return `Revocation failed: ${response.detail}`;
  }
}

/** Counts by severity, most severe first, e.g. "2 critical, 1 high". */
export function severityCounts(alerts: readonly Alert[]): string {
  const order: readonly Severity[] = ["critical", "high", "medium", "low"];
  return order
    .map((s) => [s, alerts.filter((a) => a.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

/** Alerts for a digest: most severe first, then in the order given (stable sort). */
export function bySeverity(alerts: readonly Alert[]): Alert[] {
  const rank: Readonly<Record<Severity, number>> = { critical: 0, high: 1, medium: 2, low: 3 };
  return [...alerts].sort((a, b) => rank[a.severity] - rank[b.severity]);
}

export function jsonHeaders(key: string): Record<string, string> {
  return { "content-type": "application/json", [IDEMPOTENCY_KEY_HEADER]: key };
}

/** A summary lists this many of its most severe alerts; the rest are counted. */
export const SUMMARY_TOP_ENTRIES = 5;
/** A summary counts this many policies by name; the rest are counted together. */
export const SUMMARY_TOP_POLICIES = 10;
/** Where an operator sees every alert a summary stands for, each recorded with the summary's key. */
export const SUMMARY_SEE_ALL_COMMAND = "npx grantguard alerts list --json";

/** How many alerts each policy raised, most first (then by id, so the order is stable). */
export function policyCounts(alerts: readonly Alert[]): { readonly policyId: string; readonly policyTitle: string; readonly count: number }[] {
  const counts = new Map<string, { policyId: string; policyTitle: string; count: number }>();
  for (const a of alerts) {
    const entry = counts.get(a.policyId) ?? { policyId: a.policyId, policyTitle: a.policyTitle, count: 0 };
    entry.count += 1;
    counts.set(a.policyId, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.policyId.localeCompare(b.policyId));
}

/** Counts by state change, e.g. "12 opened, 3 resolved". */
export function transitionCounts(alerts: readonly Alert[]): string {
  const order: readonly AlertTransition[] = ["opened", "exempted", "resolved"];
  return order
    .map((t) => [t, alerts.filter((a) => a.transition === t).length] as const)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${n} ${t}`)
    .join(", ");
}

/** Counts by severity as data, every severity present (zero when none). */
export function severityTally(alerts: readonly Alert[]): Record<Severity, number> {
  const tally: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const a of alerts) tally[a.severity] += 1;
  return tally;
}

/** The headline of a summary. */
export function summaryTitle(alerts: readonly Alert[]): string {
  return `grantguard: ${alerts.length} alerts at once (${transitionCounts(alerts)})`;
}

/** How to see every alert of a summary, said the same way on every channel. */
export function summarySeeAll(key: string): string {
  return `Each of these alerts is recorded as delivered with this summary (key ${key}). See them all, with every detail: ${SUMMARY_SEE_ALL_COMMAND}; each entry opens its scope's role assignments in the Azure portal.`;
}
