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
  /** Deliveries recorded for the first time (one per alert and channel, the digest's included). */
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
 * How long the instance that claimed a pending change, or a due delivery, has to send it before
 * another may (the first died, or is stuck): a marker's `claimedUntil`, a due delivery's
 * `nextAttemptAt` while it is being sent.
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

/** What sending some deliveries did: each one's change of state, and the counts. */
interface Sent {
  readonly changes: readonly DeliveryChange[];
  readonly tally: Tally;
}
/** What sending and recording some deliveries did. */
type Tally = Omit<DispatchReport, "queued">;
const NOTHING: Tally = { delivered: 0, retrying: 0, failed: 0, messages: 0 };
const addTallies = (tallies: readonly Tally[]): Tally =>
  tallies.reduce((a, b) => ({ delivered: a.delivered + b.delivered, retrying: a.retrying + b.retrying, failed: a.failed + b.failed, messages: a.messages + b.messages }), NOTHING);

/** Groups of deliveries (each recorded in one transaction) that a round works through at once. */
const GROUPS_IN_FLIGHT = 4;

/** The channels with more pending deliveries in `rows` than the summary threshold. */
function summarizedChannels(deps: DispatchDependencies, rows: readonly Delivery[]): ReadonlySet<ChannelKind> {
  const counts = new Map<ChannelKind, number>();
  for (const d of rows) if (d.status === "pending") counts.set(d.channel, (counts.get(d.channel) ?? 0) + 1);
  return new Set([...counts].filter(([, n]) => n > deps.response.alertSummaryThreshold).map(([channel]) => channel));
}

const deliveryKey = (d: Pick<Delivery, "alertId" | "channel">) => `${d.alertId}|${d.channel}`;

/** Items by a key, in their order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/**
 * One round of the outbox.
 *
 * The state changes in `pending` are claimed first (a conditional write on each one's marker: of
 * instances racing for a change, one wins, and no one else sends it until the claim runs out);
 * their deliveries are sent, and recorded once sent, in their final state (delivered, due again,
 * failed, or waiting for the digest), a batch at a time, while the next batches are sent; last,
 * the markers are cleared. A crash anywhere leaves the marker, claimed: when the claim runs out,
 * the next round claims it again, leaves out the deliveries already recorded, and sends the rest
 * (a message whose sending was not recorded goes again, with the same idempotency key). A channel
 * with more deliveries in the round than the threshold gets one summary instead. `due`
 * deliveries (retries, claimed from the due index) go out with the rest and are updated.
 */
async function dispatchRound(deps: DispatchDependencies, pending: readonly PendingAlert[], due: readonly Delivery[]): Promise<DispatchReport> {
  const now = deps.now();
  const eligible = pending.filter((p) => !heldForRevocation(p, now) && !(p.claimedUntil && p.claimedUntil > now));
  const claimed = eligible.length ? await deps.findings.claimAlerts(eligible, new Date(now.getTime() + DELIVERY_LEASE_MS)) : [];
  const wanted = claimed.flatMap((p) => deliveriesOf(deps, alertFromFinding(p.finding, deps.response.mode), now));
  // A change claimed before, or handed over before, may have deliveries recorded already: they are not sent again.
  const again = new Set(claimed.filter((p) => p.mayBeRecorded).map((p) => p.finding.id));
  const recheck = wanted.filter((d) => d.findingId !== null && again.has(d.findingId));
  const recorded = new Set((recheck.length ? await deps.deliveries.listExisting(recheck) : []).map(deliveryKey));
  const fresh = wanted.filter((d) => !recorded.has(deliveryKey(d)));

  const summarized = summarizedChannels(deps, [...fresh, ...due]);
  const single = (d: Delivery) => d.status === "pending" && !summarized.has(d.channel);
  const together = (d: Delivery) => d.status === "pending" && summarized.has(d.channel);
  const sending = createLimiter(SEND_CONCURRENCY);
  const recording = createLimiter(GROUPS_IN_FLIGHT);
  const record = async (sent: Sent, waiting: readonly Delivery[]) => {
    const outcomes = [...sent.changes.map((c) => c.next), ...waiting];
    return outcomes.length ? recording(() => deps.deliveries.create(outcomes)) : [];
  };

  const results = await Promise.allSettled([
    // Each batch of new deliveries: sent one by one, recorded together.
    ...groupBy(fresh, (d) => deps.deliveries.batchKey(d)).map(async (group) => {
      const sent = await send(deps, plan(deps, group.filter(single), false), sending);
      const created = await record(sent, group.filter((d) => d.status === "digest"));
      return { tally: sent.tally, created: created.length };
    }),
    // The summaries: every channel past the threshold, new deliveries and due ones together.
    (async () => {
      const sent = await send(deps, plan(deps, [...fresh.filter(together), ...due.filter(together)], true), sending);
      const isDue = new Set(due.map(deliveryKey));
      const created = await record({ changes: sent.changes.filter((c) => !isDue.has(deliveryKey(c.previous))), tally: NOTHING }, []);
      const updated = sent.changes.filter((c) => isDue.has(deliveryKey(c.previous)));
      if (updated.length) await deps.deliveries.update(updated);
      return { tally: sent.tally, created: created.length };
    })(),
    // Due deliveries one by one: they exist, and are updated.
    (async () => {
      const sent = await send(deps, plan(deps, due.filter(single), false), sending);
      if (sent.changes.length) await deps.deliveries.update(sent.changes);
      return { tally: sent.tally, created: 0 };
    })(),
  ]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  // The markers go once every delivery is recorded; if recording failed, they stay for the next claim.
  if (failure) throw failure.reason;
  const done = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (claimed.length) await deps.findings.clearAlertsPending(claimed);
  return { queued: done.reduce((n, r) => n + r.created, 0), ...addTallies(done.map((r) => r.tally)) };
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
  return groupBy(rows, (d) => d.channel).flatMap((deliveries) => {
    const channel = deliveries[0]?.channel;
    if (channel === undefined) return [];
    const byAlert = new Map(deliveries.map((d) => [d.alertId, d]));
    return formatSummary(channel, target(deps.response, channel), deliveries.map((d) => JSON.parse(d.payload) as Alert), nowSeconds).map(({ message, alerts }) => ({ message, deliveries: alerts.flatMap((a) => byAlert.get(a.id) ?? []) }));
  });
}

/**
 * Sends messages through `limit` (at most SEND_CONCURRENCY in flight for the whole round) and
 * says what became of each delivery: delivered; a failure due again after back-off; failed
 * after the last attempt.
 */
async function send(deps: DispatchDependencies, sends: readonly Send[], limit: <T>(fn: () => Promise<T>) => Promise<T>): Promise<Sent> {
  if (sends.length === 0) return { changes: [], tally: NOTHING };
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
  return { changes, tally: { delivered, retrying, failed, messages } };
}

/**
 * Sends pending deliveries the caller owns (created or claimed), one message each or, past the
 * summary threshold, one summary per channel, and records every outcome.
 */
export async function deliverRows(deps: DispatchDependencies, rows: readonly Delivery[]): Promise<Omit<DispatchReport, "queued">> {
  const summarized = summarizedChannels(deps, rows);
  const pending = rows.filter((d) => d.status === "pending");
  const sending = createLimiter(SEND_CONCURRENCY);
  const sent = await settleAll<Sent[]>([send(deps, plan(deps, pending.filter((d) => !summarized.has(d.channel)), false), sending), send(deps, plan(deps, pending.filter((d) => summarized.has(d.channel)), true), sending)]);
  await deps.deliveries.update(sent.flatMap((s) => s.changes));
  return addTallies(sent.map((s) => s.tally));
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
