import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback, readText, reply } from "./listen.js";
import { verifyWebhookSignature } from "../shared/response/channels/webhook.js";
import { IDEMPOTENCY_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../shared/response/channels/types.js";

/** One request the receiver answered. */
export interface ReceivedRequest {
  readonly path: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON (the raw text when it is not JSON). */
  readonly body: unknown;
  /** The signature check: null when the receiver has no secret. */
  readonly verified: boolean | null;
  /** True when a delivery with the same idempotency key had already been accepted. */
  readonly duplicate: boolean;
  /** The status answered. */
  readonly status: number;
}

export interface WebhookReceiverOptions {
  /** When set, requests must carry a valid grantguard signature (else 401). */
  readonly secret?: string;
  readonly toleranceSeconds?: number;
  /** The clock signatures are checked against (Unix seconds). */
  readonly nowSeconds?: () => number;
}

/**
 * A local stand-in for Teams, Slack and generic webhook receivers: takes POSTs on any path,
 * records them, checks signatures when it has a secret, and can fail on demand to exercise retries.
 */
export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  #server: Server | undefined;
  #base = "";
  #failures: { remaining: number; status: number } = { remaining: 0, status: 500 };
  readonly #acceptedKeys = new Set<string>();

  constructor(private readonly options: WebhookReceiverOptions = {}) {}

  async start(port = 0): Promise<void> {
    if (this.#server) throw new Error("the webhook receiver is already started");
    // A request that breaks off mid-body is dropped, not left as an unhandled rejection.
    const server = createServer((req, res) => void this.#handle(req, res).catch(() => res.destroy()));
    this.#base = `http://127.0.0.1:${await listenOnLoopback(server, port)}`;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  /** The URL of a path on this receiver (any path is accepted). */
  url(path = "/hook"): string {
    if (!this.#server) throw new Error("the webhook receiver is not started");
    return `${this.#base}${path.startsWith("/") ? path : `/${path}`}`;
  }

  /** Answers `status` to the next `count` requests (to exercise the sender's retries). */
  failNext(count: number, status = 500): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
    this.#failures = { remaining: count, status };
  }

  /** Forgets everything received and every key seen, and stops failing: a fresh receiver. */
  reset(): void {
    this.received.length = 0;
    this.#acceptedKeys.clear();
    this.#failures = { remaining: 0, status: 500 };
  }

  /** The accepted deliveries, one per idempotency key (deliveries without a key each count). */
  uniqueDeliveries(): ReceivedRequest[] {
    return this.received.filter((r) => isSuccess(r.status) && !r.duplicate);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") return reply(res, 405, { error: "use POST" });
    const path = new URL(req.url ?? "/", "http://host").pathname;
    const text = await readText(req);
    const headers = flatten(req.headers);
    const body = parseJson(text);
    const verified = this.#verify(headers, text);
    const key = headers[IDEMPOTENCY_KEY_HEADER];
    const record = (status: number, duplicate = false): void => {
      this.received.push({ path, headers, body: body.ok ? body.value : text, verified, duplicate, status });
    };

    if (this.#failures.remaining > 0) {
      this.#failures.remaining -= 1;
      const status = this.#failures.status;
      record(status);
      return reply(res, status, { error: "failing on purpose (failNext)" });
    }
    if (verified === false) {
      record(401);
      return reply(res, 401, { error: "bad signature" });
    }
    if (!body.ok) {
      record(400);
      return reply(res, 400, { error: "the body is not JSON" });
    }
    if (key !== undefined && this.#acceptedKeys.has(key)) {
      record(200, true);
      return reply(res, 200, { ok: true, duplicate: true });
    }
    if (key !== undefined) this.#acceptedKeys.add(key);
    record(200);
    return reply(res, 200, { ok: true });
  }

  #verify(headers: Readonly<Record<string, string>>, body: string): boolean | null {
    const secret = this.options.secret;
    if (secret === undefined) return null;
    const result = verifyWebhookSignature({
      secret,
      timestamp: headers[TIMESTAMP_HEADER],
      signature: headers[SIGNATURE_HEADER],
      body,
      nowSeconds: this.options.nowSeconds?.() ?? Date.now() / 1000,
      ...(this.options.toleranceSeconds === undefined ? {} : { toleranceSeconds: this.options.toleranceSeconds }),
    });
    return result.ok;
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
