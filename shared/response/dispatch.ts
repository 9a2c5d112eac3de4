import type { ResponseConfig } from "../config.js";
import type { FindingsStore, PendingAlert } from "../findings/store.js";
import type { Finding } from "../model/finding.js";
import { alertId, portalUrl, type Alert, type ResponseTaken } from "./alert.js";
import { formatMessage } from "./channels/index.js";
import type { ChannelKind } from "./channels/types.js";
import type { AlertDeliveries, Delivery } from "./deliveries.js";
import { routeAlert } from "./route.js";
import type { AlertSender } from "./sender.js";
import { describeError } from "../errors.js";

/** What delivering alerts needs. */
export interface DispatchDependencies {
  readonly findings: FindingsStore;
  readonly deliveries: AlertDeliveries;
  readonly sender: AlertSender;
  readonly response: ResponseConfig;
  readonly now: () => Date;
}

/** What one dispatch round did. */
export interface DispatchReport {
  readonly queued: number;
  readonly delivered: number;
  readonly retrying: number;
  readonly failed: number;
}

function responseOf(f: Finding): ResponseTaken {
  switch (f.responseKind) {
    case "alerted":
      return { kind: "alerted" };
    case "revoked":
      return { kind: "revoked", backupId: f.backupId ?? "(unknown)" };
    default:
      return { kind: f.responseKind, detail: f.responseDetail ?? "" };
  }
}

/** The alert announcing a finding's pending state change. */
export function alertFromFinding(f: Finding, mode: ResponseConfig["mode"]): Alert {
  const transition = f.alertTransition ?? "opened";
  const at = f.alertAt ?? f.lastSeen;
  return {
    id: alertId(f.id, transition, at),
    findingId: f.id,
    transition,
    at,
    severity: f.severity,
    policyId: f.policyId,
    policyTitle: f.policyTitle,
    reason: f.reason,
    principal: { id: f.principalId, type: f.principalType, name: f.principalName },
    role: { id: f.roleDefinitionId, name: f.roleName },
    scope: f.scope,
    scopeLevel: f.scopeLevel,
    subscriptionId: f.subscriptionId,
    grantedBy: f.grantedBy,
    grantedByIpAddress: f.grantedByIpAddress,
    mode,
    response: responseOf(f),
    lookup: {
      findingId: f.id,
      command: f.responseKind === "revoked" && f.backupId ? `npx grantguard restore ${f.backupId} --reason "<why>"` : `az role assignment list --assignee ${f.principalId} --scope "${f.scope}"`,
      portalUrl: portalUrl(f.scope),
    },
  };
}

function target(config: ResponseConfig, channel: ChannelKind): { url: string; secret?: string } {
  const c = config.channels;
  if (channel === "webhook" && c.webhook) return { url: c.webhook.url, secret: c.webhook.secret };
  if (channel === "teams" && c.teams) return { url: c.teams };
  if (channel === "slack" && c.slack) return { url: c.slack };
  throw new TypeError(`alert channel ${channel} has no URL configured`);
}

/** Puts an alert in the outbox for the channels its routes name (idempotent per alert and channel); returns the rows it created. */
export async function queueAlert(deps: DispatchDependencies, alert: Alert): Promise<Delivery[]> {
  const { immediate, digest } = routeAlert(alert, deps.response.routes);
  const now = deps.now().toISOString();
  const rows: Delivery[] = [
    ...immediate.map((channel) => ({ channel, status: "pending" as const })),
    ...digest.map((channel) => ({ channel, status: "digest" as const })),
  ].map(({ channel, status }) => ({ alertId: alert.id, channel, findingId: alert.findingId, status, attempts: 0, nextAttemptAt: now, lastError: null, createdAt: now, deliveredAt: null, payload: JSON.stringify(alert) }));
  const created = await Promise.all(rows.map((row) => deps.deliveries.createIfAbsent(row)));
  return rows.filter((_, i) => created[i]);
}

/** Phase 1: turns findings with a pending state change into outbox rows, then clears their flag; returns the new rows. */
async function materialize(deps: DispatchDependencies, findings: readonly Finding[]): Promise<Delivery[]> {
  // Each finding's rows are queued before its flag is cleared; findings are independent of each other.
  const rows = await Promise.all(
    findings
      .filter((f) => f.alertPending)
      .map(async (finding) => {
        // What is announced is what is stored now, never a copy a concurrent judgement has replaced.
        const pending = await deps.findings.pendingAlert(finding);
        if (!pending || heldForRevocation(pending, deps.now())) return [];
        const queued = await queueAlert(deps, alertFromFinding(pending.finding, deps.response.mode));
        await deps.findings.clearAlertPending(pending);
        return queued;
      }),
  );
  return rows.flat();
}

/** How long an announcement waits for a revocation in progress to end, before it is sent as it stands. */
export const REVOCATION_ANNOUNCEMENT_HOLD_MS = 5 * 60_000;

// A finding stored as "revoking" is announced with the revocation's outcome, which the revoking
// instance writes a moment later; only if that never comes (the instance died and the event is
// not redelivered) is it announced as in progress.
function heldForRevocation(pending: PendingAlert, now: Date): boolean {
  return pending.finding.responseKind === "revoking" && now.getTime() - pending.writtenAt.getTime() < REVOCATION_ANNOUNCEMENT_HOLD_MS;
}

const backoffMs = (base: number, attempts: number) => Math.min(3_600_000, base * 2 ** Math.max(0, attempts - 1));

/** Phase 2: sends the due pending deliveries among `rows`; failures are retried with back-off, then marked failed. */
export async function deliverRows(deps: DispatchDependencies, rows: readonly Delivery[]): Promise<Omit<DispatchReport, "queued">> {
  const now = deps.now();
  let delivered = 0;
  let retrying = 0;
  let failed = 0;
  for (const d of rows) {
    if (d.status !== "pending") continue;
    if (d.nextAttemptAt > now.toISOString()) {
      retrying++;
      continue;
    }
    const alert = JSON.parse(d.payload) as Alert;
    const attempts = d.attempts + 1;
    try {
      await deps.sender.send(formatMessage(d.channel, target(deps.response, d.channel), [alert], Math.floor(now.getTime() / 1000)));
      await deps.deliveries.update({ ...d, attempts, status: "delivered", deliveredAt: deps.now().toISOString(), lastError: null });
      delivered++;
    } catch (error) {
      const gaveUp = attempts >= deps.response.alertMaxAttempts;
      await deps.deliveries.update({ ...d, attempts, status: gaveUp ? "failed" : "pending", lastError: describeError(error), nextAttemptAt: new Date(now.getTime() + backoffMs(deps.response.alertRetryBaseMs, attempts)).toISOString() });
      if (gaveUp) failed++;
      else retrying++;
    }
  }
  return { delivered, retrying, failed };
}

/**
 * The timer's round: every pending state change in the findings table (whatever a crash left
 * behind), then every due delivery in the outbox. Both are table scans, so this runs on a timer,
 * not per event.
 */
export async function dispatchAlerts(deps: DispatchDependencies): Promise<DispatchReport> {
  const queued = (await materialize(deps, await deps.findings.list({ alertPending: true }))).length;
  return { queued, ...(await deliverRows(deps, await deps.deliveries.list({ status: "pending" }))) };
}

/** Right after an event: the alerts of the findings it just wrote, and only those (no scans). */
export async function dispatchFindings(deps: DispatchDependencies, findings: readonly Finding[]): Promise<DispatchReport> {
  const rows = await materialize(deps, findings);
  return { queued: rows.length, ...(await deliverRows(deps, rows)) };
}

/** Sends every alert waiting for the digest, one message per channel; a failed channel keeps its alerts for the next digest. */
export async function sendDigest(deps: DispatchDependencies): Promise<{ readonly sent: number; readonly alerts: number }> {
  const waiting = await deps.deliveries.list({ status: "digest" });
  const byChannel = new Map<ChannelKind, Delivery[]>();
  for (const d of waiting) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);
  let sent = 0;
  let alerts = 0;
  for (const [channel, rows] of byChannel) {
    const now = deps.now();
    try {
      await deps.sender.send(formatMessage(channel, target(deps.response, channel), rows.map((r) => JSON.parse(r.payload) as Alert), Math.floor(now.getTime() / 1000)));
    } catch (error) {
      for (const r of rows) await deps.deliveries.update({ ...r, attempts: r.attempts + 1, lastError: describeError(error) });
      continue;
    }
    for (const r of rows) await deps.deliveries.update({ ...r, attempts: r.attempts + 1, status: "delivered", deliveredAt: now.toISOString(), lastError: null });
    sent++;
    alerts += rows.length;
  }
  return { sent, alerts };
}
