import { createHmac, timingSafeEqual } from "node:crypto";
import type { Alert } from "../alert.js";
import { idempotencyKey, policyCounts, requireAlerts, severityTally } from "./describe.js";
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, type ChannelMessage } from "./types.js";

/** The signature scheme's version prefix: `v1=` then the hex HMAC-SHA256. */
const SIGNATURE_PREFIX = "v1=";
const SIGNATURE_PATTERN = /^v1=([0-9a-f]{64})$/i;
const TIMESTAMP_PATTERN = /^[0-9]{1,15}$/;
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `${timestamp}.${body}`: what a receiver recomputes. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/**
 * A generic JSON webhook: `{"alerts":[…]}` signed with HMAC-SHA256 over the timestamp and the
 * body, so a receiver can reject forgeries (signature) and replays (timestamp, idempotency key).
 */
export function webhookMessage(url: string, secret: string, alerts: readonly Alert[], nowSeconds: number): ChannelMessage {
  checkSigning(secret, nowSeconds);
  requireAlerts(alerts);
  return signed(url, secret, JSON.stringify({ alerts }), alerts, nowSeconds);
}

/** A summary message carries at most this many bytes of alerts; a larger round is sent in parts. */
export const WEBHOOK_SUMMARY_MAX_BYTES = 1_000_000;

/** What every part of a webhook summary says about the whole round. */
export interface WebhookSummary {
  readonly alerts: number;
  readonly bySeverity: Readonly<Record<string, number>>;
  readonly byPolicy: readonly { readonly policyId: string; readonly policyTitle: string; readonly count: number }[];
  /** This message's place among the parts of the summary (1-based), and how many there are. */
  readonly part: number;
  readonly parts: number;
}

/**
 * A summary for a bulk change on the generic webhook: `{"summary":{…},"alerts":[…]}`, every alert
 * in full, signed as any message. A round too large for one body (about 1 MB) is sent in parts,
 * each with its own alerts and idempotency key and the same counts of the whole round.
 */
export function webhookSummaryMessages(url: string, secret: string, alerts: readonly Alert[], nowSeconds: number): { readonly message: ChannelMessage; readonly alerts: readonly Alert[] }[] {
  checkSigning(secret, nowSeconds);
  requireAlerts(alerts);
  const parts: Alert[][] = [];
  let current: Alert[] = [];
  let bytes = 0;
  for (const alert of alerts) {
    const size = Buffer.byteLength(JSON.stringify(alert)) + 1;
    if (current.length > 0 && bytes + size > WEBHOOK_SUMMARY_MAX_BYTES) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(alert);
    bytes += size;
  }
  parts.push(current);
  const counts = { alerts: alerts.length, bySeverity: severityTally(alerts), byPolicy: policyCounts(alerts) };
  return parts.map((part, i) => {
    const summary: WebhookSummary = { ...counts, part: i + 1, parts: parts.length };
    return { message: signed(url, secret, JSON.stringify({ summary, alerts: part }), part, nowSeconds), alerts: part };
  });
}

function checkSigning(secret: string, nowSeconds: number): void {
  if (secret === "") throw new TypeError("a webhook secret must not be empty");
  if (!Number.isFinite(nowSeconds) || nowSeconds < 0) throw new RangeError(`nowSeconds must be a time in Unix seconds, got ${nowSeconds}`);
}

function signed(url: string, secret: string, body: string, alerts: readonly Alert[], nowSeconds: number): ChannelMessage {
  const timestamp = String(Math.floor(nowSeconds));
  return {
    url,
    headers: {
      "content-type": "application/json",
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: `${SIGNATURE_PREFIX}${webhookSignature(secret, timestamp, body)}`,
      [IDEMPOTENCY_KEY_HEADER]: idempotencyKey(alerts),
    },
    body,
  };
}

export interface VerifyWebhookInput {
  readonly secret: string;
  /** The x-grantguard-timestamp header as received (missing: undefined or null). */
  readonly timestamp: string | null | undefined;
  /** The x-grantguard-signature header as received. */
  readonly signature: string | null | undefined;
  /** The raw body exactly as received, before any JSON parsing. */
  readonly body: string;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

export type VerifyWebhookResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks a received webhook: well-formed headers, a timestamp within the tolerance, the right signature. */
export function verifyWebhookSignature(input: VerifyWebhookInput): VerifyWebhookResult {
  const { secret, timestamp, signature, body, nowSeconds } = input;
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (secret === "") return { ok: false, reason: "no secret to verify with" };
  if (typeof timestamp !== "string" || !TIMESTAMP_PATTERN.test(timestamp)) {
    return { ok: false, reason: `malformed or missing ${TIMESTAMP_HEADER} header` };
  }
  if (typeof signature !== "string") return { ok: false, reason: `missing ${SIGNATURE_HEADER} header` };
  const match = SIGNATURE_PATTERN.exec(signature.trim());
  const given = match?.[1];
  if (given === undefined) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: expected v1=<64 hex digits>` };

  const age = nowSeconds - Number(timestamp);
  if (!(Math.abs(age) <= tolerance)) {
    return { ok: false, reason: age > 0 ? `stale timestamp: ${Math.round(age)} s old (tolerance ${tolerance} s)` : `timestamp ${Math.round(-age)} s in the future (tolerance ${tolerance} s)` };
  }
  const expected = Buffer.from(webhookSignature(secret, timestamp, body), "hex");
  const received = Buffer.from(given, "hex");
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: "signature does not match" };
  }
  return { ok: true };
}
