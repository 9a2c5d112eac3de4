import { randomUUID } from "node:crypto";

/** How one event's delivery ended. */
export type DeliveryOutcome =
  | { readonly status: "delivered"; readonly eventId: string; readonly attempts: number }
  | { readonly status: "deadLettered"; readonly eventId: string; readonly attempts: number; readonly lastError: string };

export interface EventGridOptions {
  /** The subscriber's webhook with its key, e.g. the dev host's eventGridUrl("judgeGrantEvent"). */
  readonly endpoint: string;
  readonly schema?: "EventGrid" | "CloudEvents";
  /** Delay before each retry in ms; Event Grid uses 10 s, 30 s, 1 min, 5 min…, scaled down here. */
  readonly retryDelaysMs?: readonly number[];
  /** Attempts before dead-lettering (Event Grid's default is 30). */
  readonly maxAttempts?: number;
  readonly onOutcome?: (outcome: DeliveryOutcome) => void;
}

/** How deliverConcurrently() delivers: the at-least-once, unordered, parallel delivery Event Grid may make. */
export interface ConcurrentDeliveryOptions {
  /** POSTs in flight at once (default 8). */
  readonly concurrency?: number;
  /** Extra copies of every event, each delivered on its own like the original (default 0). */
  readonly duplicates?: number;
  /** Deliver in random order (default true); with `seed` the order is the same on every run. */
  readonly shuffle?: boolean;
  readonly seed?: number;
  /** Events per POST, as with Event Grid's output batching (default 1: Event Grid's default). */
  readonly batchSize?: number;
}

const DEFAULT_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];
// delivery-and-retry.md: only 200–204 acknowledge a delivery; for a webhook, Event Grid does not retry
// 400, 401, 403 or 413 (it dead-letters at once) and retries everything else.
const SUCCESS = new Set([200, 201, 202, 203, 204]);
const NOT_RETRIED = new Set([400, 401, 403, 413]);

/**
 * The local Event Grid: validates the subscription with the handshake, then pushes events to the
 * webhook at least once, retrying failures with back-off and dead-lettering after the last attempt
 * (or at once for the statuses Event Grid never retries), as Event Grid does.
 */
export class LocalEventGrid {
  readonly outcomes: DeliveryOutcome[] = [];
  readonly #pending = new Set<Promise<void>>();
  #validated: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventGridOptions) {}

  /** Delivers events in order of publication (first attempts one after another); retries run in the background. */
  publish(events: readonly unknown[]): Promise<void> {
    const run = this.#chain.then(async () => {
      await this.#validate();
      for (const event of events) await this.#deliver([event]);
    });
    this.#chain = run.catch(() => undefined);
    this.#track(run);
    return run;
  }

  /**
   * Delivers events as Event Grid is allowed to: `concurrency` POSTs at once, shuffled, each event
   * `duplicates` extra times, `batchSize` events per POST. Resolves when every first attempt has
   * been answered; settled() waits for the retries too. Outcomes are recorded per copy.
   */
  deliverConcurrently(events: readonly unknown[], options: ConcurrentDeliveryOptions = {}): Promise<void> {
    const { concurrency = 8, duplicates = 0, shuffle = true, batchSize = 1 } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be a positive integer");
    if (!Number.isInteger(duplicates) || duplicates < 0) throw new RangeError("duplicates must be a non-negative integer");
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be a positive integer");
    const copies = events.flatMap((event) => Array.from({ length: duplicates + 1 }, () => event));
    if (shuffle) shuffleInPlace(copies, options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const batches: unknown[][] = [];
    for (let i = 0; i < copies.length; i += batchSize) batches.push(copies.slice(i, i + batchSize));

    const run = (async () => {
      await this.#validate();
      let next = 0;
      const worker = async () => {
        while (next < batches.length) await this.#deliver(batches[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    })();
    this.#track(run);
    return run;
  }

  /** Resolves when every published event is delivered or dead-lettered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  // The first attempt of one POST; a failure that may be retried continues in the background.
  async #deliver(batch: readonly unknown[]): Promise<void> {
    const first = await this.#attempt(batch, 1);
    if (first.ok) return this.#finish(batch, { status: "delivered", attempts: 1 });
    if (first.final) return this.#finish(batch, { status: "deadLettered", attempts: 1, lastError: first.error });
    this.#track(this.#retry(batch, first.error));
  }

  #finish(batch: readonly unknown[], outcome: { status: "delivered"; attempts: number } | { status: "deadLettered"; attempts: number; lastError: string }): void {
    for (const event of batch) {
      const recorded: DeliveryOutcome = { ...outcome, eventId: idOf(event) };
      this.outcomes.push(recorded);
      this.options.onOutcome?.(recorded);
    }
  }

  async #retry(batch: readonly unknown[], firstError: string): Promise<void> {
    const delays = this.options.retryDelaysMs ?? DEFAULT_DELAYS_MS;
    const maxAttempts = this.options.maxAttempts ?? delays.length + 1;
    let lastError = firstError;
    for (let attempt = 2; attempt <= maxAttempts; attempt++) {
      await new Promise((r) => setTimeout(r, delays[Math.min(attempt - 2, delays.length - 1)] ?? 1_000));
      const result = await this.#attempt(batch, attempt);
      if (result.ok) return this.#finish(batch, { status: "delivered", attempts: attempt });
      lastError = result.error;
      if (result.final) return this.#finish(batch, { status: "deadLettered", attempts: attempt, lastError });
    }
    this.#finish(batch, { status: "deadLettered", attempts: maxAttempts, lastError });
  }

  /** One POST of a batch: ok on 200–204; else the error, final when Event Grid would not retry it. */
  async #attempt(batch: readonly unknown[], attempt: number): Promise<{ ok: true } | { ok: false; final: boolean; error: string }> {
    const cloud = this.options.schema === "CloudEvents";
    try {
      const response = await fetch(this.options.endpoint, {
        method: "POST",
        headers: {
          "content-type": cloud ? (batch.length === 1 ? "application/cloudevents+json; charset=utf-8" : "application/cloudevents-batch+json; charset=utf-8") : "application/json",
          "aeg-event-type": "Notification",
          "aeg-delivery-count": String(attempt - 1),
          "aeg-subscription-name": "GRANTGUARD-LOCAL",
        },
        // Event Grid schema: always an array. CloudEvents: one event as itself, a batch as an array.
        body: JSON.stringify(cloud && batch.length === 1 ? batch[0] : batch),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      return SUCCESS.has(response.status) ? { ok: true } : { ok: false, final: NOT_RETRIED.has(response.status), error: `HTTP ${response.status}: ${text.slice(0, 300)}` };
    } catch (error) {
      return { ok: false, final: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  // Event Grid proves the endpoint wants events before it sends any (the validation handshake).
  #validate(): Promise<void> {
    this.#validated ??= (async () => {
      const code = randomUUID();
      const cloud = this.options.schema === "CloudEvents";
      const response = cloud
        ? await fetch(this.options.endpoint, { method: "OPTIONS", headers: { "webhook-request-origin": "eventgrid.azure.net" } })
        : await fetch(this.options.endpoint, {
            method: "POST",
            headers: { "content-type": "application/json", "aeg-event-type": "SubscriptionValidation" },
            body: JSON.stringify([{ id: randomUUID(), topic: "/local", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", eventTime: new Date().toISOString(), data: { validationCode: code }, dataVersion: "2", metadataVersion: "1" }]),
          });
      if (!response.ok) throw new Error(`the webhook ${redactKey(this.options.endpoint)} refused the subscription validation: HTTP ${response.status}`);
      if (cloud) {
        if (!response.headers.get("webhook-allowed-origin")) throw new Error("the webhook did not allow the Event Grid origin");
      } else {
        const body = (await response.json()) as { validationResponse?: string };
        if (body.validationResponse !== code) throw new Error("the webhook answered the validation with the wrong code");
      }
    })();
    return this.#validated;
  }
}

function idOf(event: unknown): string {
  return typeof event === "object" && event !== null && typeof (event as { id?: unknown }).id === "string" ? (event as { id: string }).id : "(no id)";
}

// A webhook URL as it may be shown: without its key.
function redactKey(endpoint: string): string {
  return endpoint.replace(/([?&]code=)[^&]*/i, "$1***");
}

// Fisher–Yates with a small seeded generator (mulberry32), so a failing order can be replayed.
function shuffleInPlace<T>(items: T[], seed: number): void {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
