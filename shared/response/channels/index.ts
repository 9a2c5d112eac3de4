import type { Alert } from "../alert.js";
import { slackMessage } from "./slack.js";
import { teamsMessage } from "./teams.js";
import type { ChannelKind, ChannelMessage } from "./types.js";
import { webhookMessage } from "./webhook.js";

export type { ChannelKind, ChannelMessage } from "./types.js";
export { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./types.js";
export { idempotencyKey } from "./describe.js";
export { teamsMessage } from "./teams.js";
export { slackMessage, escapeMrkdwn } from "./slack.js";
export { webhookMessage, verifyWebhookSignature, webhookSignature, type VerifyWebhookInput, type VerifyWebhookResult } from "./webhook.js";

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
