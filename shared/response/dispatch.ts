import type { ResponseConfig } from "../config.js";
import type { FindingsStore, PendingAlert } from "../findings/store.js";
import { mapConcurrently } from "../model/concurrency.js";
import type { Finding } from "../model/finding.js";
import { alertId, portalUrl, type Alert, type ResponseTaken } from "./alert.js";
import { formatMessage, formatSummary, idempotencyKey } from "./channels/index.js";
import type { ChannelKind, ChannelMessage } from "./channels/types.js";
import type { AlertDeliveries, Delivery, DeliveryChange } from "./deliveries.js";
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
  /** Deliveries created (one per alert and channel, the digest's included). */
  readonly queued: number;
  readonly delivered: number;
  readonly retrying: number;
  readonly failed: number;
  /** Messages the channels accepted: one per alert, or one summary for many. */
  readonly messages: number;
}

/** Most state changes, and most due deliveries, one timer round takes on (the rest wait for the next). */
export const ROUND_MAX_ALERTS = 10_000;
/** Messages in flight at once in a round. */
export const SEND_CONCURRENCY = 8;
/**
 * How long the instance that created or claimed a delivery has to send it before the timer may
 * send it instead (it died, or is stuck): the delivery's `nextAttemptAt` while it is being sent.
 */
export const DELIVERY_LEASE_MS = 2 * 60_000;

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

/** The deliveries of an alert on the channels its routes name: pending (leased to the creator) or waiting for the digest. */
function deliveriesOf(deps: DispatchDependencies, alert: Alert, now: Date): Delivery[] {
  const { immediate, digest } = routeAlert(alert, deps.response.routes);
  const createdAt = now.toISOString();
  const lease = new Date(now.getTime() + DELIVERY_LEASE_MS).toISOString();
  const payload = JSON.stringify(alert);
  return [
    ...immediate.map((channel) => ({ channel, status: "pending" as const, nextAttemptAt: lease })),
    ...digest.map((channel) => ({ channel, status: "digest" as const, nextAttemptAt: createdAt })),
  ].map(({ channel, status, nextAttemptAt }) => ({ alertId: alert.id, channel, findingId: alert.findingId, status, attempts: 0, nextAttemptAt, lastError: null, createdAt, deliveredAt: null, deliveredIn: null, payload }));
}

/** Puts an alert in the outbox for the channels its routes name (idempotent per alert and channel); returns the rows it created, which the caller sends. */
export async function queueAlert(deps: DispatchDependencies, alert: Alert): Promise<Delivery[]> {
  return deps.deliveries.create(deliveriesOf(deps, alert, deps.now()));
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

/** Awaits every promise, then throws the first failure: nothing is left running when this throws. */
async function settleAll<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * One round of the outbox: the state changes in `pending` become deliveries (created in
 * batches; only the instance that creates a delivery sends it), their markers are cleared once
 * every delivery exists (a crash before leaves them for the next round), and what was created or
 * `claimed` is sent and recorded.
 */
async function dispatchRound(deps: DispatchDependencies, pending: readonly PendingAlert[], claimed: readonly Delivery[]): Promise<DispatchReport> {
  const now = deps.now();
  const ready = pending.filter((p) => !heldForRevocation(p, now));
  const created = ready.length ? await deps.deliveries.create(ready.flatMap((p) => deliveriesOf(deps, alertFromFinding(p.finding, deps.response.mode), now))) : [];
  // The markers go while the messages are on their way: every delivery they stand for exists.
  const [, sent] = await settleAll<[ReadonlySet<string>, Omit<DispatchReport, "queued">]>([ready.length ? deps.findings.clearAlertsPending(ready) : Promise.resolve(new Set<string>()), deliverRows(deps, [...created, ...claimed])]);
  return { queued: created.length, ...sent };
}

/** One POST and the deliveries it carries. */
interface Send {
  readonly message: ChannelMessage;
  readonly deliveries: readonly Delivery[];
}

/**
 * The messages for a channel's deliveries: one each, or, past the summary threshold, one summary
 * (in parts on the webhook when it is very large) standing for all of them.
 */
function messagesFor(deps: DispatchDependencies, channel: ChannelKind, deliveries: readonly Delivery[], nowSeconds: number): Send[] {
  const to = target(deps.response, channel);
  if (deliveries.length <= deps.response.alertSummaryThreshold) {
    return deliveries.map((d) => ({ message: formatMessage(channel, to, [JSON.parse(d.payload) as Alert], nowSeconds), deliveries: [d] }));
  }
  const byAlert = new Map(deliveries.map((d) => [d.alertId, d]));
  return formatSummary(channel, to, deliveries.map((d) => JSON.parse(d.payload) as Alert), nowSeconds).map(({ message, alerts }) => ({ message, deliveries: alerts.flatMap((a) => byAlert.get(a.id) ?? []) }));
}

/**
 * Sends pending deliveries the caller owns (created or claimed), at most SEND_CONCURRENCY
 * messages at once, and records every outcome in batches: delivered; a failure retried with
 * back-off; failed after the last attempt.
 */
export async function deliverRows(deps: DispatchDependencies, rows: readonly Delivery[]): Promise<Omit<DispatchReport, "queued">> {
  const now = deps.now();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const byChannel = new Map<ChannelKind, Delivery[]>();
  for (const d of rows) if (d.status === "pending") byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);
  const sends = [...byChannel].flatMap(([channel, deliveries]) => messagesFor(deps, channel, deliveries, nowSeconds));
  const errors = await mapConcurrently(sends, SEND_CONCURRENCY, async ({ message }) => {
    try {
      await deps.sender.send(message);
      return null;
    } catch (error) {
      return error;
    }
  });
  const changes: DeliveryChange[] = [];
  let messages = 0;
  let delivered = 0;
  let retrying = 0;
  let failed = 0;
  const settledAt = deps.now();
  for (const [i, { message, deliveries }] of sends.entries()) {
    const error = errors[i];
    if (error === null) messages++;
    for (const d of deliveries) {
      const attempts = d.attempts + 1;
      if (error === null) {
        changes.push({ previous: d, next: { ...d, attempts, status: "delivered", deliveredAt: settledAt.toISOString(), deliveredIn: message.headers["x-grantguard-idempotency-key"] ?? null, lastError: null } });
        delivered++;
        continue;
      }
      const gaveUp = attempts >= deps.response.alertMaxAttempts;
      changes.push({ previous: d, next: { ...d, attempts, status: gaveUp ? "failed" : "pending", lastError: describeError(error), nextAttemptAt: new Date(now.getTime() + backoffMs(deps.response.alertRetryBaseMs, attempts)).toISOString() } });
      if (gaveUp) failed++;
      else retrying++;
    }
  }
  await deps.deliveries.update(changes);
  return { delivered, retrying, failed, messages };
}

/**
 * The timer's round: pending state changes (whatever a crash or an outage left behind), found
 * through the outbox markers of each findings partition, and the deliveries that are due (retries,
 * and those whose sender's lease ran out), found through the due index. It reads what is
 * pending or due, never the findings or the delivered alerts.
 */
export async function dispatchAlerts(deps: DispatchDependencies): Promise<DispatchReport> {
  const now = deps.now();
  const [pending, claimed] = await settleAll<[PendingAlert[], Delivery[]]>([
    deps.findings.listPendingAlerts({ limit: ROUND_MAX_ALERTS }),
    deps.deliveries.claimDue({ now, leaseUntil: new Date(now.getTime() + DELIVERY_LEASE_MS), limit: ROUND_MAX_ALERTS }),
  ]);
  return dispatchRound(deps, pending, claimed);
}

/** Right after an event (or a sweep's batch): the alerts of the findings it just wrote, read back as stored (no scans). */
export async function dispatchFindings(deps: DispatchDependencies, findings: readonly Finding[]): Promise<DispatchReport> {
  const assignmentIds = [...new Set(findings.filter((f) => f.alertPending).map((f) => f.assignmentId.toLowerCase()))];
  const pending = assignmentIds.length ? await deps.findings.listPendingAlerts({ assignmentIds }) : [];
  return dispatchRound(deps, pending, []);
}

/** Sends every alert waiting for the digest, one message per channel; a failed channel keeps its alerts for the next digest. */
export async function sendDigest(deps: DispatchDependencies): Promise<{ readonly sent: number; readonly alerts: number }> {
  const waiting = await deps.deliveries.listDigest();
  const byChannel = new Map<ChannelKind, Delivery[]>();
  for (const d of waiting) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);
  const now = deps.now();
  const results = await mapConcurrently([...byChannel], SEND_CONCURRENCY, async ([channel, rows]): Promise<{ rows: Delivery[]; sent: boolean; changes: DeliveryChange[] }> => {
    const alerts = rows.map((r) => JSON.parse(r.payload) as Alert);
    try {
      await deps.sender.send(formatMessage(channel, target(deps.response, channel), alerts, Math.floor(now.getTime() / 1000)));
    } catch (error) {
      return { rows, sent: false, changes: rows.map((r) => ({ previous: r, next: { ...r, attempts: r.attempts + 1, lastError: describeError(error) } })) };
    }
    const key = idempotencyKey(alerts);
    return { rows, sent: true, changes: rows.map((r) => ({ previous: r, next: { ...r, attempts: r.attempts + 1, status: "delivered" as const, deliveredAt: now.toISOString(), deliveredIn: key, lastError: null } })) };
  });
  await deps.deliveries.update(results.flatMap((r) => r.changes));
  const sent = results.filter((r) => r.sent);
  return { sent: sent.length, alerts: sent.reduce((n, r) => n + r.rows.length, 0) };
}
