import type { ResponseConfig } from "../config.js";
import type { FindingsStore, PendingAlert } from "../findings/store.js";
import { createLimiter, mapConcurrently } from "../model/concurrency.js";
import type { Finding } from "../model/finding.js";
import { alertId, portalUrl, type Alert, type ResponseTaken } from "./alert.js";
import { formatMessage, formatSummary, IDEMPOTENCY_KEY_HEADER, idempotencyKey } from "./channels/index.js";
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

/** What sending and recording some deliveries did. */
type Tally = Omit<DispatchReport, "queued">;
const addTallies = (tallies: readonly Tally[]): Tally =>
  tallies.reduce((a, b) => ({ delivered: a.delivered + b.delivered, retrying: a.retrying + b.retrying, failed: a.failed + b.failed, messages: a.messages + b.messages }), { delivered: 0, retrying: 0, failed: 0, messages: 0 });

/** Groups of deliveries written in one transaction that a round works through at once. */
const GROUPS_IN_FLIGHT = 4;

/** The channels with more pending deliveries in `rows` than the summary threshold. */
function summarizedChannels(deps: DispatchDependencies, rows: readonly Delivery[]): ReadonlySet<ChannelKind> {
  const counts = new Map<ChannelKind, number>();
  for (const d of rows) if (d.status === "pending") counts.set(d.channel, (counts.get(d.channel) ?? 0) + 1);
  return new Set([...counts].filter(([, n]) => n > deps.response.alertSummaryThreshold).map(([channel]) => channel));
}

/**
 * One round of the outbox. The state changes in `pending` become deliveries, created a batch
 * at a time (only the instance that creates a delivery sends it); each alert of a batch is sent
 * as soon as its batch exists and recorded with it, while the next batches are created. A
 * channel with more deliveries in the round than the threshold gets one summary instead, once
 * every batch exists. The markers of the changes whose deliveries all exist are cleared while
 * the messages are on their way (a crash before leaves them for the next round). `claimed`
 * deliveries (due again) go out with the rest.
 */
async function dispatchRound(deps: DispatchDependencies, pending: readonly PendingAlert[], claimed: readonly Delivery[]): Promise<DispatchReport> {
  const now = deps.now();
  const ready = pending.filter((p) => !heldForRevocation(p, now));
  const rows = ready.flatMap((p) => deliveriesOf(deps, alertFromFinding(p.finding, deps.response.mode), now));
  const summarized = summarizedChannels(deps, [...rows, ...claimed]);
  const one = (d: Delivery) => d.status === "pending" && !summarized.has(d.channel);
  const sending = createLimiter(SEND_CONCURRENCY);
  const creating = createLimiter(GROUPS_IN_FLIGHT);
  const groups = new Map<string, Delivery[]>();
  for (const d of rows) {
    const key = deps.deliveries.batchKey(d);
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  const pipelines = await Promise.allSettled(
    [...groups.values()].map(async (group) => {
      const created = await creating(() => deps.deliveries.create(group));
      return { group, created, delivered: sendAndRecord(deps, plan(deps, created.filter(one), false), sending) };
    }),
  );
  const done = pipelines.flatMap((p) => (p.status === "fulfilled" ? [p.value] : []));
  const failure = pipelines.find((p): p is PromiseRejectedResult => p.status === "rejected");
  // A change is handed over once all of its deliveries exist (created now, or before by another instance).
  const existing = new Set(done.flatMap((p) => p.group.map((d) => d.alertId)));
  const handed = ready.filter((p) => existing.has(alertFromFinding(p.finding, deps.response.mode).id));
  const created = done.flatMap((p) => p.created);
  const [, ...tallies] = await settleAll<[ReadonlySet<string>, ...Tally[]]>([
    handed.length ? deps.findings.clearAlertsPending(handed) : Promise.resolve(new Set<string>()),
    sendAndRecord(deps, plan(deps, [...created, ...claimed].filter((d) => d.status === "pending" && summarized.has(d.channel)), true), sending),
    sendAndRecord(deps, plan(deps, claimed.filter(one), false), sending),
    ...done.map((p) => p.delivered),
  ]);
  if (failure) throw failure.reason;
  return { queued: created.length, ...addTallies(tallies) };
}

/** One POST and the deliveries it carries. */
interface Send {
  readonly message: ChannelMessage;
  readonly deliveries: readonly Delivery[];
}

/**
 * The messages for pending deliveries: one each, or with `summarize`, one summary per channel
 * (in parts on the webhook when it is very large) standing for all of that channel's.
 */
function plan(deps: DispatchDependencies, rows: readonly Delivery[], summarize: boolean): Send[] {
  const nowSeconds = Math.floor(deps.now().getTime() / 1000);
  if (!summarize) return rows.map((d) => ({ message: formatMessage(d.channel, target(deps.response, d.channel), [JSON.parse(d.payload) as Alert], nowSeconds), deliveries: [d] }));
  const byChannel = new Map<ChannelKind, Delivery[]>();
  for (const d of rows) {
    const list = byChannel.get(d.channel);
    if (list) list.push(d);
    else byChannel.set(d.channel, [d]);
  }
  return [...byChannel].flatMap(([channel, deliveries]) => {
    const byAlert = new Map(deliveries.map((d) => [d.alertId, d]));
    return formatSummary(channel, target(deps.response, channel), deliveries.map((d) => JSON.parse(d.payload) as Alert), nowSeconds).map(({ message, alerts }) => ({ message, deliveries: alerts.flatMap((a) => byAlert.get(a.id) ?? []) }));
  });
}

/**
 * Sends messages through `limit` (at most SEND_CONCURRENCY in flight for the whole round) and
 * records every outcome in batches: delivered; a failure retried with back-off; failed after the
 * last attempt.
 */
async function sendAndRecord(deps: DispatchDependencies, sends: readonly Send[], limit: <T>(fn: () => Promise<T>) => Promise<T>): Promise<Tally> {
  if (sends.length === 0) return { delivered: 0, retrying: 0, failed: 0, messages: 0 };
  const errors = await Promise.all(
    sends.map(({ message }) =>
      limit(async () => {
        try {
          await deps.sender.send(message);
          return null;
        } catch (error) {
          return error;
        }
      }),
    ),
  );
  const now = deps.now();
  const changes: DeliveryChange[] = [];
  let messages = 0;
  let delivered = 0;
  let retrying = 0;
  let failed = 0;
  for (const [i, { message, deliveries }] of sends.entries()) {
    const error = errors[i];
    if (error === null) messages++;
    for (const d of deliveries) {
      const attempts = d.attempts + 1;
      if (error === null) {
        changes.push({ previous: d, next: { ...d, attempts, status: "delivered", deliveredAt: now.toISOString(), deliveredIn: message.headers[IDEMPOTENCY_KEY_HEADER] ?? null, lastError: null } });
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
 * Sends pending deliveries the caller owns (created or claimed), one message each or, past the
 * summary threshold, one summary per channel, and records every outcome.
 */
export async function deliverRows(deps: DispatchDependencies, rows: readonly Delivery[]): Promise<Omit<DispatchReport, "queued">> {
  const summarized = summarizedChannels(deps, rows);
  const pending = rows.filter((d) => d.status === "pending");
  const sending = createLimiter(SEND_CONCURRENCY);
  const tallies = await settleAll<Tally[]>([
    sendAndRecord(deps, plan(deps, pending.filter((d) => !summarized.has(d.channel)), false), sending),
    sendAndRecord(deps, plan(deps, pending.filter((d) => summarized.has(d.channel)), true), sending),
  ]);
  return addTallies(tallies);
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
