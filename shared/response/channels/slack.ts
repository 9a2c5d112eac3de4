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

/** Block Kit limits this module keeps to. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3_000,
  sectionFields: 10,
  fieldText: 2_000,
  contextElements: 10,
  buttonText: 75,
  buttonUrl: 3_000,
  /** Slack truncates the top-level text past 40,000 characters; a fallback needs far less. */
  fallbackText: 3_000,
} as const;

type Block = Readonly<Record<string, unknown>>;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Escaped mrkdwn of at most max characters: cuts the raw text (never an entity in half) until
 * the escaped form fits.
 */
export function mrkdwn(value: string, max: number): string {
  let escaped = escapeMrkdwn(value);
  let cut = max;
  while (escaped.length > max && cut > 0) {
    cut -= escaped.length - max;
    escaped = escapeMrkdwn(truncate(value, Math.max(cut, 1)));
  }
  return escaped;
}

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ":red_circle:",
  high: ":large_orange_circle:",
  medium: ":large_yellow_circle:",
  low: ":white_circle:",
};

function emoji(alert: Alert): string {
  return alert.transition === "resolved" ? ":white_check_mark:" : SEVERITY_EMOJI[alert.severity];
}

/** A Slack incoming-webhook body: a plain fallback `text` and Block Kit `blocks`. */
export function slackMessage(url: string, alerts: readonly Alert[]): ChannelMessage {
  requireAlerts(alerts);
  const [only] = alerts;
  const payload = only !== undefined && alerts.length === 1 ? single(only) : digest(alerts);
  return { url, headers: jsonHeaders(idempotencyKey(alerts)), body: JSON.stringify(payload) };
}

function header(value: string): Block {
  return { type: "header", text: { type: "plain_text", text: truncate(value, SLACK_LIMITS.headerText), emoji: true } };
}

function field(label: string, value: string): Block {
  return { type: "mrkdwn", text: `*${label}*\n${mrkdwn(value, SLACK_LIMITS.fieldText - label.length - 3)}` };
}

function section(value: string): Block {
  return { type: "section", text: { type: "mrkdwn", text: value } };
}

function portalButton(alert: Alert, actionId: string, label: string): Block {
  return {
    type: "button",
    action_id: actionId,
    text: { type: "plain_text", text: truncate(label, SLACK_LIMITS.buttonText) },
    url: alert.lookup.portalUrl.slice(0, SLACK_LIMITS.buttonUrl),
  };
}

/** Labelled mrkdwn text: the label is ours (no escaping needed), the value is escaped and cut. */
function labelled(label: string, value: string, max: number): string {
  return `*${label}:* ${mrkdwn(value, max)}`;
}

/** The command as inline code, unless it holds a backtick (mrkdwn cannot escape one). */
function command(alert: Alert, max: number): string {
  const cmd = alert.lookup.command;
  return cmd.includes("`") ? mrkdwn(cmd, max) : `\`${mrkdwn(cmd, max - 2)}\``;
}

function fallback(alert: Alert): string {
  return `[${severityLabel(alert.severity)}] ${titleText(alert)} at ${alert.scope} — ${responseText(alert.response)}`;
}

function single(alert: Alert): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    header(`${emoji(alert)} ${severityLabel(alert.severity)} · ${titleText(alert)}`),
    {
      type: "section",
      fields: [
        field("Principal", principalText(alert)),
        field("Role", `${alert.role.name} (${alert.role.id})`),
        field("Scope", scopeText(alert)),
        field("Granted by", granterText(alert)),
        field("Severity", severityLabel(alert.severity)),
        field("State", transitionLabel(alert.transition)),
        field("Mode", alert.mode),
        field("When", alert.at),
      ],
    },
    section(
      [
        labelled("Policy", policyText(alert), 500),
        labelled("Why", truncate(alert.reason, REASON_MAX_CHARS), 1_100),
        labelled("What grantguard did", truncate(responseText(alert.response), REASON_MAX_CHARS), 1_100),
      ].join("\n"),
    ),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `Look it up: ${command(alert, 1_000)} · finding ${mrkdwn(alert.lookup.findingId, 300)}` }],
    },
    { type: "actions", elements: [portalButton(alert, "grantguard-portal", "Open in Azure portal")] },
  ];
  return { text: mrkdwn(fallback(alert), SLACK_LIMITS.fallbackText), blocks };
}

function digestEntry(alert: Alert, index: number): Block {
  const lines = [
    `${emoji(alert)} *${severityLabel(alert.severity)} · ${transitionLabel(alert.transition)}* · ${mrkdwn(alert.role.name, 150)} → ${mrkdwn(principalShort(alert), 200)}`,
    `Scope ${mrkdwn(alert.scope, 400)} · granted by ${mrkdwn(granterText(alert), 300)}`,
    `${mrkdwn(alert.policyTitle, 200)}: ${mrkdwn(truncate(alert.reason, DIGEST_REASON_MAX_CHARS), 500)}`,
    `*${mrkdwn(truncate(responseText(alert.response), DIGEST_REASON_MAX_CHARS), 600)}* · ${command(alert, 300)}`,
  ];
  return {
    type: "section",
    text: { type: "mrkdwn", text: lines.join("\n") },
    accessory: portalButton(alert, `grantguard-portal-${index}`, "Open in portal"),
  };
}

function digest(alerts: readonly Alert[]): { text: string; blocks: Block[] } {
  const sorted = bySeverity(alerts);
  // header + summary + entries + "and N more" stays far below the 50-block limit.
  const shown = Math.min(DIGEST_MAX_ENTRIES, sorted.length, SLACK_LIMITS.blocks - 3);
  const more = sorted.length - shown;
  const summary = `${sorted.length} alerts: ${severityCounts(sorted)}`;
  const blocks: Block[] = [
    header(`grantguard: ${sorted.length} alerts`),
    { type: "context", elements: [{ type: "mrkdwn", text: mrkdwn(severityCounts(sorted), 500) }] },
    ...sorted.slice(0, shown).map(digestEntry),
  ];
  if (more > 0) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `and ${more} more` }] });
  return { text: mrkdwn(`grantguard: ${summary}`, SLACK_LIMITS.fallbackText), blocks };
}

/**
 * A summary for a bulk change (a sweep, a round after an outage): the counts by severity and by
 * policy, the most severe few, and how to see every alert, in one message.
 */
export function slackSummaryMessage(url: string, alerts: readonly Alert[]): ChannelMessage {
  requireAlerts(alerts);
  const key = idempotencyKey(alerts);
  const sorted = bySeverity(alerts);
  const policies = policyCounts(sorted);
  const listed = policies.slice(0, SUMMARY_TOP_POLICIES);
  const otherPolicies = policies.slice(listed.length).reduce((n, p) => n + p.count, 0);
  const policyLines = [
    ...listed.map((p) => `• ${p.count} × ${mrkdwn(p.policyTitle, 120)} (\`${mrkdwn(p.policyId, 80)}\`)`),
    ...(otherPolicies > 0 ? [`• ${otherPolicies} × ${policies.length - listed.length} other policies`] : []),
  ];
  const shown = Math.min(SUMMARY_TOP_ENTRIES, sorted.length);
  const blocks: Block[] = [
    header(summaryTitle(sorted)),
    { type: "context", elements: [{ type: "mrkdwn", text: mrkdwn(severityCounts(sorted), 500) }] },
    // At most 11 lines of at most ~230 characters: inside a section's 3,000.
    section(`*By policy*\n${policyLines.join("\n")}`),
    section(`*The ${shown} most severe*`),
    ...sorted.slice(0, shown).map(digestEntry),
  ];
  if (sorted.length > shown) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `and ${sorted.length - shown} more` }] });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: mrkdwn(summarySeeAll(key), SLACK_LIMITS.fieldText) }] });
  return { url, headers: jsonHeaders(key), body: JSON.stringify({ text: mrkdwn(`${summaryTitle(sorted)}: ${severityCounts(sorted)}`, SLACK_LIMITS.fallbackText), blocks }) };
}
