/** One HTTP POST to a channel, fully prepared: send it as is. */
export interface ChannelMessage {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The channels grantguard can deliver alerts to. */
export type ChannelKind = "teams" | "slack" | "webhook";

/** The same alerts always have the same key; receivers drop a delivery whose key they already accepted. */
export const IDEMPOTENCY_KEY_HEADER = "x-grantguard-idempotency-key";
/** Unix seconds at signing (generic webhook only). */
export const TIMESTAMP_HEADER = "x-grantguard-timestamp";
/** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` (generic webhook only). */
export const SIGNATURE_HEADER = "x-grantguard-signature";
