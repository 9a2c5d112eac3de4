import type { Alert } from "../alert.js";
import type { Severity } from "../../model/severity.js";
import type { ChannelMessage } from "./types.js";
import {
  bySeverity,
  DIGEST_MAX_ENTRIES,
  DIGEST_REASON_MAX_CHARS,
  granterText,
  idempotencyKey,
  jsonHeaders,
  policyCounts,
  policyText,
  principalShort,
  principalText,
  REASON_MAX_CHARS,
  requireAlerts,
  responseText,
  scopeText,
  severityCounts,
  severityLabel,
  SUMMARY_TOP_ENTRIES,
  SUMMARY_TOP_POLICIES,
  summarySeeAll,
  summaryTitle,
  titleText,
  transitionLabel,
  truncate,
} from "./describe.js";

/**
 * Teams drops webhook messages above about 28 KB; a digest lists fewer entries (the rest
 * counted in "and N more") rather than cross it.
 */
export const TEAMS_MAX_BODY_BYTES = 27_000;
/** Any one value on a card (scope, names, commands) is cut at this length. */
const VALUE_MAX_CHARS = 500;

type CardElement = Readonly<Record<string, unknown>>;

/**
 * The body a Teams Workflows webhook ("When a Teams webhook request is received") posts to a
 * channel: a message with one Adaptive Card. One alert: a card with its facts; several: a digest.
 */
export function teamsMessage(url: string, alerts: readonly Alert[]): ChannelMessage {
  requireAlerts(alerts);
  const [only] = alerts;
  const body =
    only !== undefined && alerts.length === 1
      ? envelope(singleCard(only))
      : digestBody(alerts);
  return { url, headers: jsonHeaders(idempotencyKey(alerts)), body };
}

function envelope(card: CardElement): string {
  return JSON.stringify({
    type: "message",
    attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }],
  });
}

function card(body: readonly CardElement[], actions: readonly CardElement[]): CardElement {
  return {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    msteams: { width: "Full" },
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

function text(value: string, extra: Readonly<Record<string, unknown>> = {}): CardElement {
  return { type: "TextBlock", text: value, wrap: true, ...extra };
}

/** Adaptive Card colours and container styles by severity; resolved alerts are shown as good news. */
function tone(alert: Alert): { color: string; style: string } {
  if (alert.transition === "resolved") return { color: "Good", style: "good" };
  const bySeverity: Readonly<Record<Severity, { color: string; style: string }>> = {
    critical: { color: "Attention", style: "attention" },
    high: { color: "Attention", style: "attention" },
    medium: { color: "Warning", style: "warning" },
    low: { color: "Accent", style: "accent" },
  };
  return bySeverity[alert.severity];
}

function v(value: string): string {
  return truncate(value, VALUE_MAX_CHARS);
}

function singleCard(alert: Alert): CardElement {
  const { color, style } = tone(alert);
  const body: CardElement[] = [
    {
      type: "Container",
      style,
      bleed: true,
      items: [
        text(`${severityLabel(alert.severity)} severity · ${transitionLabel(alert.transition)} · grantguard`, {
          weight: "Bolder",
          color,
          size: "Small",
        }),
        text(v(titleText(alert)), { weight: "Bolder", size: "Medium" }),
      ],
    },
    {
      type: "FactSet",
      facts: [
        { title: "Principal", value: v(principalText(alert)) },
        { title: "Role", value: v(`${alert.role.name} (${alert.role.id})`) },
        { title: "Scope", value: v(scopeText(alert)) },
        { title: "Granted by", value: v(granterText(alert)) },
        { title: "Policy", value: v(policyText(alert)) },
        { title: "Severity", value: severityLabel(alert.severity) },
        { title: "Mode", value: alert.mode },
        { title: "When", value: alert.at },
      ],
    },
    text("Why it matched", { weight: "Bolder", spacing: "Medium" }),
    text(truncate(alert.reason, REASON_MAX_CHARS)),
    text("What grantguard did", { weight: "Bolder", spacing: "Medium" }),
    text(truncate(responseText(alert.response), REASON_MAX_CHARS), { color: responseColor(alert) }),
    text("Look it up", { weight: "Bolder", spacing: "Medium" }),
    text(v(alert.lookup.command), { fontType: "Monospace" }),
    text(v(`Finding ${alert.lookup.findingId}`), { isSubtle: true, size: "Small" }),
  ];
  return card(body, [{ type: "Action.OpenUrl", title: "Open in Azure portal", url: alert.lookup.portalUrl }]);
}

function responseColor(alert: Alert): string {
  switch (alert.response.kind) {
    case "revoked":
      return "Good";
    case "revocationBlocked":
    case "revocationFailed":
      return "Attention";
    case "wouldRevoke":
    case "revoking":
      return "Warning";
    case "alerted":
      return "Default";
  }
}

/**
 * One compact entry of a digest: a headline, where and by whom, the policy and why, the
 * response, and the look-up (the command; selecting the entry opens the portal).
 */
function digestEntry(alert: Alert): CardElement {
  const { color } = tone(alert);
  return {
    type: "Container",
    separator: true,
    selectAction: { type: "Action.OpenUrl", title: "Open in Azure portal", url: alert.lookup.portalUrl },
    items: [
      text(v(`${severityLabel(alert.severity)} · ${transitionLabel(alert.transition)} · ${alert.role.name} → ${principalShort(alert)}`), {
        weight: "Bolder",
        color,
      }),
      text(v(`At ${alert.scope}, granted by ${granterText(alert)}`), { size: "Small" }),
      text(`${v(alert.policyTitle)}: ${truncate(alert.reason, DIGEST_REASON_MAX_CHARS)}`, { size: "Small" }),
      text(truncate(responseText(alert.response), DIGEST_REASON_MAX_CHARS), { size: "Small", weight: "Bolder" }),
      text(v(alert.lookup.command), { size: "Small", fontType: "Monospace", isSubtle: true }),
    ],
  };
}

function digestCard(sorted: readonly Alert[], shown: number): CardElement {
  const more = sorted.length - shown;
  const body: CardElement[] = [
    {
      type: "Container",
      style: tone(sorted[0] ?? never()).style,
      bleed: true,
      items: [
        text(`grantguard: ${sorted.length} alerts`, { weight: "Bolder", size: "Medium" }),
        text(`${severityCounts(sorted)} · select an entry to open it in the Azure portal`, { spacing: "None", isSubtle: true }),
      ],
    },
    ...sorted.slice(0, shown).map(digestEntry),
  ];
  if (more > 0) body.push(text(`and ${more} more`, { separator: true, weight: "Bolder" }));
  return card(body, []);
}

/** The digest with as many entries as fit: at most 25, fewer only if the card would be too big for Teams. */
function digestBody(alerts: readonly Alert[]): string {
  const sorted = bySeverity(alerts);
  let shown = Math.min(DIGEST_MAX_ENTRIES, sorted.length);
  let body = envelope(digestCard(sorted, shown));
  while (shown > 1 && Buffer.byteLength(body) > TEAMS_MAX_BODY_BYTES) {
    shown -= 1;
    body = envelope(digestCard(sorted, shown));
  }
  return body;
}

/**
 * A summary for a bulk change (a sweep, a round after an outage): one card with the counts by
 * severity and by policy, the most severe few, and how to see every alert.
 */
export function teamsSummaryMessage(url: string, alerts: readonly Alert[]): ChannelMessage {
  requireAlerts(alerts);
  const key = idempotencyKey(alerts);
  const sorted = bySeverity(alerts);
  let shown = Math.min(SUMMARY_TOP_ENTRIES, sorted.length);
  let body = envelope(summaryCard(sorted, shown, key));
  while (shown > 0 && Buffer.byteLength(body) > TEAMS_MAX_BODY_BYTES) {
    shown -= 1;
    body = envelope(summaryCard(sorted, shown, key));
  }
  return { url, headers: jsonHeaders(key), body };
}

function summaryCard(sorted: readonly Alert[], shown: number, key: string): CardElement {
  const policies = policyCounts(sorted);
  const listed = policies.slice(0, SUMMARY_TOP_POLICIES);
  const otherPolicies = policies.slice(listed.length).reduce((n, p) => n + p.count, 0);
  const body: CardElement[] = [
    {
      type: "Container",
      style: tone(sorted[0] ?? never()).style,
      bleed: true,
      items: [text(v(summaryTitle(sorted)), { weight: "Bolder", size: "Medium" }), text(severityCounts(sorted), { spacing: "None", isSubtle: true })],
    },
    text("By policy", { weight: "Bolder", spacing: "Medium" }),
    {
      type: "FactSet",
      facts: [
        ...listed.map((p) => ({ title: v(`${p.policyTitle} (${p.policyId})`), value: String(p.count) })),
        ...(otherPolicies > 0 ? [{ title: `${policies.length - listed.length} other policies`, value: String(otherPolicies) }] : []),
      ],
    },
  ];
  if (shown > 0) {
    body.push(text(`The ${shown} most severe`, { weight: "Bolder", spacing: "Medium" }), ...sorted.slice(0, shown).map(digestEntry));
    if (sorted.length > shown) body.push(text(`and ${sorted.length - shown} more`, { separator: true, weight: "Bolder" }));
  }
  body.push(text(summarySeeAll(key), { separator: true, size: "Small", isSubtle: true }));
  return card(body, []);
}

function never(): never {
  throw new RangeError("a digest needs at least one alert");
}
