import type { Alert } from "../alert.js";
import { slackMessage, slackSummaryMessage } from "./slack.js";
import { teamsMessage, teamsSummaryMessage } from "./teams.js";
import type { ChannelKind, ChannelMessage } from "./types.js";
import { webhookMessage, webhookSummaryMessages } from "./webhook.js";

export type { ChannelKind, ChannelMessage } from "./types.js";
export { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./types.js";
export { idempotencyKey } from "./describe.js";
export { teamsMessage, teamsSummaryMessage } from "./teams.js";
export { slackMessage, slackSummaryMessage, escapeMrkdwn } from "./slack.js";
export { webhookMessage, webhookSummaryMessages, verifyWebhookSignature, webhookSignature, WEBHOOK_SUMMARY_MAX_BYTES, type VerifyWebhookInput, type VerifyWebhookResult, type WebhookSummary } from "./webhook.js";

/** Where a channel's messages go; the generic webhook also needs the secret it signs with. */
export interface ChannelTarget {
  readonly url: string;
  readonly secret?: string;
}

/** The HTTP POST that delivers alerts (one, or several as a digest) to a channel. */
export function formatMessage(kind: ChannelKind, target: ChannelTarget, alerts: readonly Alert[], nowSeconds: number): ChannelMessage {
  switch (kind) {
    case "teams":
      return teamsMessage(target.url, alerts);
    case "slack":
      return slackMessage(target.url, alerts);
    case "webhook":
      if (target.secret === undefined || target.secret === "") {
        // The URL is left out of the message: webhook URLs often carry a token.
        throw new TypeError("a webhook target needs a secret to sign its messages with");
      }
      return webhookMessage(target.url, target.secret, alerts, nowSeconds);
    default:
      // Kinds come from configuration too: fail loudly on one the type system did not see.
      throw new TypeError(`unknown channel kind '${String(kind satisfies never)}'`);
  }
}

/** One message of a summary, and the alerts it delivers (all of them, or one part's on the webhook). */
export interface SummaryMessage {
  readonly message: ChannelMessage;
  readonly alerts: readonly Alert[];
}

/**
 * The summary of a bulk change on a channel: one message for Teams and Slack; for the generic
 * webhook, every alert in full, in as few signed parts as its size allows (usually one).
 */
export function formatSummary(kind: ChannelKind, target: ChannelTarget, alerts: readonly Alert[], nowSeconds: number): SummaryMessage[] {
  switch (kind) {
    case "teams":
      return [{ message: teamsSummaryMessage(target.url, alerts), alerts }];
    case "slack":
      return [{ message: slackSummaryMessage(target.url, alerts), alerts }];
    case "webhook":
      if (target.secret === undefined || target.secret === "") throw new TypeError("a webhook target needs a secret to sign its messages with");
      return webhookSummaryMessages(target.url, target.secret, alerts, nowSeconds);
    default:
      throw new TypeError(`unknown channel kind '${String(kind satisfies never)}'`);
  }
}
