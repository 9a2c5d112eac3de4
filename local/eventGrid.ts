import { randomUUID } from "node:crypto";

/** How one event's delivery ended. */
export type DeliveryOutcome =
  | { readonly status: "delivered"; readonly eventId: string; readonly attempts: number }
  | { readonly status: "deadLettered"; readonly eventId: string; readonly attempts: number; readonly lastError: string };

export interface EventGridOptions {
  /** The subscriber's webhook, e.g. the dev host's /runtime/webhooks/EventGrid?functionName=… */
  readonly endpoint: string;
  readonly schema?: "EventGrid" | "CloudEvents";
  /** Delay before each retry in ms; Event Grid uses 10 s, 30 s, 1 min, 5 min…, scaled down here. */
  readonly retryDelaysMs?: readonly number[];
  /** Attempts before dead-lettering (Event Grid's default is 30). */
  readonly maxAttempts?: number;
  readonly onOutcome?: (outcome: DeliveryOutcome) => void;
}

const DEFAULT_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000];

/**
 * The local Event Grid: validates the subscription with the handshake, then pushes events to
 * the webhook at least once, retrying failures with back-off and dead-lettering after the last
 * attempt, as Event Grid does.
 */
export class LocalEventGrid {
  readonly outcomes: DeliveryOutcome[] = [];
  readonly #pending = new Set<Promise<void>>();
  #validated: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventGridOptions) {}

  /** Delivers events in order of publication (first attempts one after another); retries run in the background. */
  publish(events: readonly unknown[]): Promise<void> {
    const run = this.#chain.then(() => this.#deliver(events));
    this.#chain = run.catch(() => undefined);
    this.#track(run);
    return run;
  }

  #track(work: Promise<void>): void {
    const tracked: Promise<void> = work.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  async #deliver(events: readonly unknown[]): Promise<void> {
    await this.#validate();
    for (const event of events) {
      const first = await this.#attempt(event, 1);
      if (first === true) {
        this.#finish({ status: "delivered", eventId: idOf(event), attempts: 1 });
      } else {
        this.#track(this.#retry(event, first));
      }
    }
  }

  /** Resolves when every published event is delivered or dead-lettered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #finish(outcome: DeliveryOutcome): void {
    this.outcomes.push(outcome);
    this.options.onOutcome?.(outcome);
  }

  async #retry(event: unknown, firstError: string): Promise<void> {
    const delays = this.options.retryDelaysMs ?? DEFAULT_DELAYS_MS;
    const maxAttempts = this.options.maxAttempts ?? delays.length + 1;
    let lastError = firstError;
    for (let attempt = 2; attempt <= maxAttempts; attempt++) {
      await new Promise((r) => setTimeout(r, delays[Math.min(attempt - 2, delays.length - 1)] ?? 1_000));
      const result = await this.#attempt(event, attempt);
      if (result === true) return this.#finish({ status: "delivered", eventId: idOf(event), attempts: attempt });
      lastError = result;
    }
    this.#finish({ status: "deadLettered", eventId: idOf(event), attempts: maxAttempts, lastError });
  }

  /** One POST of one event; true on 2xx, else the error text. */
  async #attempt(event: unknown, attempt: number): Promise<true | string> {
    const cloud = this.options.schema === "CloudEvents";
    try {
      const response = await fetch(this.options.endpoint, {
        method: "POST",
        headers: {
          "content-type": cloud ? "application/cloudevents+json; charset=utf-8" : "application/json",
          "aeg-event-type": "Notification",
          "aeg-delivery-count": String(attempt - 1),
          "aeg-subscription-name": "GRANTGUARD-LOCAL",
        },
        body: typeof event === "string" && !cloud ? event : JSON.stringify(cloud ? event : [event]),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      return response.ok ? true : `HTTP ${response.status}: ${text.slice(0, 300)}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
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
      if (!response.ok) throw new Error(`the webhook ${this.options.endpoint} refused the subscription validation: HTTP ${response.status}`);
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
