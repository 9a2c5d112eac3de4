import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import functions from "@azure/functions";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventGridHandler, HttpHandler, HttpResponseInit, InvocationContext, StorageQueueHandler, TimerHandler } from "@azure/functions";
import type { TokenCredential } from "@azure/identity";
import { QueueClient, type DequeuedMessageItem } from "@azure/storage-queue";
import { closeServer, listenOnLoopback, readBody, reply, replyText, RequestBodyTooLargeError } from "./listen.js";
import { functionRegistrations, type FunctionRegistration } from "../functions/index.js";
import { describeError } from "../shared/errors.js";
import { packageRoot } from "../shared/config.js";
import { createManagedIdentityCredential } from "../shared/azure/credential.js";

/** A line a function (or the host itself, as "host") logged, with the invocation it came from. */
export interface HostLog {
  readonly functionName: string;
  readonly invocationId: string;
  readonly level: string;
  readonly message: string;
}

/** How the dev host is set up; every default is the Functions host's. */
export interface DevHostOptions {
  /** The functions to serve (default: the app's, from functions/index.ts). */
  readonly registrations?: readonly FunctionRegistration[];
  /** Largest request body accepted, else 413 (the host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: 100 MB). */
  readonly maxRequestBodyBytes?: number;
  /** host.json's extensions.queues, over what the app's host.json says (tests shorten the waits). */
  readonly queues?: Partial<QueueHostSettings>;
  /** The app settings the host reads ({connection}__queueServiceUri); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The identity queue triggers connect with (default: the managed identity, as an identity-based connection). */
  readonly credential?: TokenCredential;
}

/** The queue trigger's host.json settings (extensions.queues), in milliseconds where the host takes a time span. */
export interface QueueHostSettings {
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxDequeueCount: number;
  /** How long a failed message stays invisible before it is tried again. */
  readonly visibilityTimeoutMs: number;
  readonly maxPollingIntervalMs: number;
  readonly messageEncoding: "base64" | "none";
}

// The Storage Queues extension's defaults (QueuesOptions, Microsoft.Azure.WebJobs.Extensions.Storage.Queues 5.x).
const QUEUE_DEFAULTS: QueueHostSettings = { batchSize: 16, newBatchThreshold: 8, maxDequeueCount: 5, visibilityTimeoutMs: 0, maxPollingIntervalMs: 60_000, messageEncoding: "base64" };
// While a function runs, the host keeps its message invisible for 10 minutes (renewed); a dead host's messages reappear after it.
const PROCESSING_VISIBILITY_SECONDS = 600;
const MIN_POLL_MS = 100;

/** hh:mm:ss[.fff] (or a number of milliseconds, as host.json also accepts for maxPollingInterval) as milliseconds. */
function timeSpanMs(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const m = /^(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value.trim());
  return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 + (m[4] ? Math.round(Number(`0.${m[4]}`) * 1000) : 0) : undefined;
}

/** The app's host.json extensions.queues over the extension's defaults. */
export function queueSettingsFromHostJson(hostJson: unknown): QueueHostSettings {
  const q = ((hostJson as { extensions?: { queues?: Record<string, unknown> } } | null)?.extensions?.queues ?? {}) as Record<string, unknown>;
  const batchSize = typeof q.batchSize === "number" ? q.batchSize : QUEUE_DEFAULTS.batchSize;
  return {
    batchSize,
    newBatchThreshold: typeof q.newBatchThreshold === "number" ? q.newBatchThreshold : Math.floor(batchSize / 2),
    maxDequeueCount: typeof q.maxDequeueCount === "number" ? q.maxDequeueCount : QUEUE_DEFAULTS.maxDequeueCount,
    visibilityTimeoutMs: timeSpanMs(q.visibilityTimeout) ?? QUEUE_DEFAULTS.visibilityTimeoutMs,
    maxPollingIntervalMs: timeSpanMs(q.maxPollingInterval) ?? QUEUE_DEFAULTS.maxPollingIntervalMs,
    messageEncoding: q.messageEncoding === "none" ? "none" : "base64",
  };
}

function appQueueSettings(): QueueHostSettings {
  try {
    return queueSettingsFromHostJson(JSON.parse(readFileSync(join(packageRoot(), "host.json"), "utf8")));
  } catch {
    return QUEUE_DEFAULTS;
  }
}

// Every behaviour below is the Functions host's; local/README.md names the source of each.
const DEFAULT_MAX_BODY_BYTES = 104_857_600;
const MAX_JSON_DEPTH = 64; // Json.NET's default JsonReader.MaxDepth, which the Event Grid extension parses with
const WEBHOOK_METHODS = new Set(["GET", "POST", "DELETE", "OPTIONS"]);
const EVENT_GRID_ORIGINS = new Set(["eventgrid.azure.net", "eventgrid.azure.us", "eventgrid.azure.eaglex.ic.gov", "eventgrid.azure.microsoft.scloud", "eventgrid.azure.cn"]);

/** A request the host refuses before any function runs: its status and the reason given. */
class HostRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HostRefusal";
  }
}

interface HttpRoute {
  readonly name: string;
  readonly handler: HttpHandler;
  readonly segments: readonly ({ readonly literal: string } | { readonly param: string })[];
  readonly methods: readonly string[];
}

/**
 * The dev host: serves the functions of functions/index.ts the way the Functions host does — Event
 * Grid deliveries at /runtime/webhooks/EventGrid?functionName=…&code={system key} (both schemas and
 * handshakes, a batch's events run in parallel), HTTP functions under /api, timers on a short period.
 * A bad request gets its 4xx and the host keeps serving; nothing a client sends can stop it.
 */
export class DevHost {
  #server: Server | undefined;
  #url = "";
  // The host's system keys, made at start like the host's secrets: eventgrid_extension guards the webhook.
  readonly #systemKeys = new Map([["eventgrid_extension", randomBytes(32).toString("base64url")]]);
  // The master key guards the admin API (POST /admin/functions/{name}), as the host's does.
  readonly #masterKey = randomBytes(32).toString("base64url");
  readonly #queues: readonly { readonly name: string; readonly handler: StorageQueueHandler; readonly queueName: string; readonly connection: string }[];
  readonly #queueSettings: QueueHostSettings;
  readonly #env: NodeJS.ProcessEnv;
  readonly #credential: TokenCredential | undefined;
  #polling = false;
  readonly #pollers = new Set<Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxBodyBytes: number;
  readonly #eventGrid: ReadonlyMap<string, EventGridHandler<unknown>>;
  readonly #timers: readonly { readonly name: string; readonly handler: TimerHandler; readonly periodMs: number | null }[];
  readonly #http: readonly HttpRoute[];
  readonly #running = new Set<ReturnType<typeof setInterval>>();

  constructor(
    private readonly onLog: (log: HostLog) => void,
    options: DevHostOptions = {},
  ) {
    const registrations = options.registrations ?? functionRegistrations;
    this.#maxBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const eventGrid = new Map<string, EventGridHandler<unknown>>();
    const timers: { name: string; handler: TimerHandler; periodMs: number | null }[] = [];
    const http: HttpRoute[] = [];
    const queues: { name: string; handler: StorageQueueHandler; queueName: string; connection: string }[] = [];
    this.#queueSettings = { ...appQueueSettings(), ...options.queues };
    this.#env = options.env ?? process.env;
    this.#credential = options.credential;
    for (const r of registrations) {
      if (r.trigger === "eventGrid") eventGrid.set(r.name, r.handler);
      else if (r.trigger === "timer") timers.push({ name: r.name, handler: r.handler, periodMs: r.localPeriodMs });
      else if (r.trigger === "storageQueue") queues.push({ name: r.name, handler: r.handler, queueName: r.queueName, connection: r.connection });
      else {
        // Function and admin keys are not served here: grantguard's HTTP functions sit behind App Service Authentication.
        if (r.authLevel !== "anonymous") throw new TypeError(`the dev host serves anonymous HTTP functions only; '${r.name}' is ${r.authLevel}`);
        const segments = r.route.split("/").map((segment) => {
          const param = /^\{(\w+)\}$/.exec(segment)?.[1];
          return param ? { param } : { literal: segment.toLowerCase() };
        });
        http.push({ name: r.name, handler: r.handler, segments, methods: r.methods });
      }
    }
    this.#eventGrid = eventGrid;
    this.#timers = timers;
    this.#queues = queues;
    this.#http = http;
  }

  get url(): string {
    return this.#url;
  }

  /** The eventgrid_extension system key, which every call to the Event Grid webhook must carry. */
  get eventGridKey(): string {
    return this.#systemKeys.get("eventgrid_extension")!;
  }

  /** The webhook URL of an Event Grid function, with the system key, as an event subscription names it. */
  eventGridUrl(functionName: string): string {
    return `${this.#url}/runtime/webhooks/EventGrid?functionName=${encodeURIComponent(functionName)}&code=${encodeURIComponent(this.eventGridKey)}`;
  }

  /** The URL of an HTTP function's route (as the host serves it under /api). */
  httpUrl(path: string): string {
    return `${this.#url}/api/${path.replace(/^\//, "")}`;
  }

  /** Fires a timer function now, as the host does on schedule; false when it failed (logged). */
  async fireTimer(name: string): Promise<boolean> {
    const timer = this.#timers.find((t) => t.name === name);
    if (!timer) throw new Error(`no timer function named '${name}'`);
    const context = this.#context(timer.name);
    try {
      await timer.handler({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: "", next: "", lastUpdated: "" } }, context);
      return true;
    } catch (error) {
      this.#failed(timer.name, context, error);
      return false;
    }
  }

  /** The master key, which the admin API (POST /admin/functions/{name}) requires in x-functions-key. */
  get masterKey(): string {
    return this.#masterKey;
  }

  /** Fires every timer function on its local period until stop(); a run never overlaps the previous one. Timers with no local period run only when fired. */
  startTimers(): void {
    for (const timer of this.#timers) {
      if (timer.periodMs === null) continue;
      let busy = false;
      const handle = setInterval(() => {
        if (busy) return;
        busy = true;
        void this.fireTimer(timer.name).finally(() => (busy = false));
      }, timer.periodMs);
      handle.unref();
      this.#running.add(handle);
    }
  }

  /** Listens on loopback (port 0: a free one). */
  async start(port = 0): Promise<void> {
    // #handle answers every failure itself; should answering fail too, the connection is dropped, never the process.
    const server = createServer((req, res) => void this.#handle(req, res).catch(() => res.destroy()));
    this.#url = `http://127.0.0.1:${await listenOnLoopback(server, port)}`;
    this.#server = server;
  }

  /**
   * Listens on every queue-triggered function's queue as the Functions host does: polls (backing off
   * to maxPollingInterval while empty), takes batches of batchSize while no more than
   * newBatchThreshold run, hides a message while its function runs, deletes it on success, makes it
   * visible again after visibilityTimeout on failure, and moves it to {queue}-poison once it has been
   * dequeued maxDequeueCount times. Each queue is reached at {connection}__queueServiceUri with the identity.
   */
  startQueues(): void {
    if (this.#polling) return;
    this.#polling = true;
    for (const queue of this.#queues) {
      const uri = this.#env[`${queue.connection}__queueServiceUri`];
      if (!uri) {
        this.onLog({ functionName: queue.name, invocationId: "", level: "error", message: `the listener for '${queue.name}' cannot start: the setting ${queue.connection}__queueServiceUri is missing` });
        continue;
      }
      const credential = this.#credential ?? createManagedIdentityCredential({ clientId: this.#env.AZURE_CLIENT_ID, timeoutMs: 30_000 });
      const base = uri.replace(/\/+$/, "");
      const client = new QueueClient(`${base}/${queue.queueName}`, credential);
      const poison = new QueueClient(`${base}/${queue.queueName}-poison`, credential);
      const poller = this.#poll(queue, client, poison).catch((error: unknown) => this.onLog({ functionName: queue.name, invocationId: "", level: "error", message: `the queue listener stopped: ${describeError(error)}` }));
      this.#pollers.add(poller);
    }
  }

  async #poll(queue: { readonly name: string; readonly handler: StorageQueueHandler }, client: QueueClient, poison: QueueClient): Promise<void> {
    const settings = this.#queueSettings;
    await client.createIfNotExists();
    let delay = MIN_POLL_MS;
    const running = new Set<Promise<void>>();
    while (this.#polling) {
      // A new batch only while no more than newBatchThreshold messages are being processed.
      if (running.size > settings.newBatchThreshold) {
        await Promise.race(running);
        continue;
      }
      let items: DequeuedMessageItem[];
      try {
        items = (await client.receiveMessages({ numberOfMessages: settings.batchSize, visibilityTimeout: PROCESSING_VISIBILITY_SECONDS })).receivedMessageItems;
      } catch (error) {
        if (!this.#polling) return;
        this.onLog({ functionName: queue.name, invocationId: "", level: "warning", message: `polling the queue failed (retried): ${describeError(error)}` });
        items = [];
      }
      if (items.length === 0) {
        // Empty: back off exponentially up to maxPollingInterval; a message found resets the wait.
        await this.#idle(delay);
        delay = Math.min(delay * 2, settings.maxPollingIntervalMs);
        continue;
      }
      delay = MIN_POLL_MS;
      for (const item of items) {
        const work = this.#processMessage(queue, client, poison, item).finally(() => {
          running.delete(work);
          this.#inFlight.delete(work);
        });
        running.add(work);
        this.#inFlight.add(work);
      }
    }
  }

  /** Resolves once no queue-triggered invocation is running (those started meanwhile included). */
  async queuesSettled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  // Sleeps, but wakes early when the host stops.
  async #idle(ms: number): Promise<void> {
    const step = 50;
    for (let waited = 0; waited < ms && this.#polling; waited += step) await sleep(Math.min(step, ms - waited));
  }

  async #processMessage(queue: { readonly name: string; readonly handler: StorageQueueHandler }, client: QueueClient, poison: QueueClient, item: DequeuedMessageItem): Promise<void> {
    const settings = this.#queueSettings;
    const context = this.#context(queue.name, { id: item.messageId, dequeueCount: item.dequeueCount, insertionTime: item.insertedOn.toISOString(), expirationTime: item.expiresOn.toISOString(), nextVisibleTime: item.nextVisibleOn.toISOString(), popReceipt: item.popReceipt });
    try {
      await queue.handler(decodeQueueMessage(item.messageText, settings.messageEncoding), context);
    } catch (error) {
      this.#failed(queue.name, context, error);
      try {
        if (item.dequeueCount >= settings.maxDequeueCount) {
          // The extension copies the message to the poison queue (created on demand), then deletes it.
          await poison.createIfNotExists();
          await poison.sendMessage(item.messageText);
          await client.deleteMessage(item.messageId, item.popReceipt);
          this.onLog({ functionName: queue.name, invocationId: context.invocationId, level: "warning", message: `message ${item.messageId} moved to ${poison.name} after ${item.dequeueCount} attempts` });
        } else {
          await client.updateMessage(item.messageId, item.popReceipt, undefined, Math.round(settings.visibilityTimeoutMs / 1000));
        }
      } catch (releaseError) {
        // The message reappears when its processing visibility ends: nothing is lost.
        this.onLog({ functionName: queue.name, invocationId: context.invocationId, level: "warning", message: `could not release message ${item.messageId}: ${describeError(releaseError)}` });
      }
      return;
    }
    try {
      await client.deleteMessage(item.messageId, item.popReceipt);
    } catch (error) {
      // Processed but not deleted: it reappears and runs again (at least once), as in Azure.
      this.onLog({ functionName: queue.name, invocationId: context.invocationId, level: "warning", message: `could not delete message ${item.messageId}: ${describeError(error)}` });
    }
  }

  /** Stops the timers and queue listeners (letting running invocations finish) and closes every connection. */
  async stop(): Promise<void> {
    for (const handle of this.#running) clearInterval(handle);
    this.#running.clear();
    this.#polling = false;
    await Promise.allSettled([...this.#pollers, ...this.#inFlight]);
    this.#pollers.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  #context(functionName: string, triggerMetadata?: Record<string, unknown>): InvocationContext {
    const invocationId = randomUUID();
    return new functions.InvocationContext({
      functionName,
      invocationId,
      ...(triggerMetadata ? { triggerMetadata } : {}),
      logHandler: (level, ...args) => this.onLog({ functionName, invocationId, level, message: args.map(String).join(" ") }),
    });
  }

  #failed(functionName: string, context: InvocationContext, error: unknown): void {
    this.onLog({ functionName, invocationId: context.invocationId, level: "error", message: `invocation failed: ${describeError(error)}` });
  }

  // Every request ends here: a refusal is answered with its status, a client gone mid-request is
  // let go, and nothing escapes to become an unhandled rejection that would end the process.
  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.#route(req, res);
    } catch (error) {
      // The client is gone (or an answer was already under way): nothing left to answer.
      if (res.headersSent || res.destroyed || req.socket.destroyed) {
        this.onLog({ functionName: "host", invocationId: "", level: "warning", message: `request ${req.method} ${shownUrl(req)} ended early: ${describeError(error)}` });
        if (!res.writableEnded) res.destroy();
        return;
      }
      if (error instanceof HostRefusal) return replyText(res, error.status, error.message);
      if (error instanceof RequestBodyTooLargeError) return replyText(res, 413, error.message, { connection: "close" });
      this.onLog({ functionName: "host", invocationId: "", level: "error", message: `request ${req.method} failed in the host: ${describeError(error)}` });
      return replyText(res, 500, "the host failed to process the request");
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://host");
    // The server decodes the path before routing; a path that does not decode is a bad request.
    const segments = url.pathname
      .split("/")
      .slice(1)
      .map((segment) => {
        try {
          return decodeURIComponent(segment);
        } catch {
          throw new HostRefusal(400, `the request path ${url.pathname.slice(0, 200)} is not valid percent-encoded UTF-8`);
        }
      });
    if (segments[0]?.toLowerCase() === "api") return this.#serveHttp(req, res, url, segments.slice(1));
    if (segments.length === 3 && segments[0]?.toLowerCase() === "admin" && segments[1]?.toLowerCase() === "functions") return this.#serveAdmin(req, res, url, segments[2] ?? "");
    // runtime/webhooks/{extensionName}/{*extra}
    if (segments.length >= 3 && segments[0]?.toLowerCase() === "runtime" && segments[1]?.toLowerCase() === "webhooks") return this.#serveWebhook(req, res, url, segments[2] ?? "");
    throw new HostRefusal(404, `no route ${url.pathname.slice(0, 200)}`);
  }

  // HTTP functions, as the host serves them: route parameters, the request, the HttpResponseInit back.
  async #serveHttp(req: IncomingMessage, res: ServerResponse, url: URL, path: readonly string[]): Promise<void> {
    for (const route of this.#http) {
      if (route.segments.length !== path.length) continue;
      const params: Record<string, string> = {};
      const matches = route.segments.every((segment, i) => {
        const value = path[i] ?? "";
        if ("literal" in segment) return segment.literal === value.toLowerCase();
        params[segment.param] = value;
        return value !== "";
      });
      if (!matches) continue;
      if (!route.methods.includes(req.method ?? "GET")) return reply(res, 405, { error: `use ${route.methods.join(" or ")}` });
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : Array.isArray(v) ? [[k, v.join(", ")]] : [])));
      const body = await readBody(req, this.#maxBodyBytes);
      const request = new functions.HttpRequest({ method: req.method ?? "GET", url: url.toString(), headers, params, body: { string: body } });
      const context = this.#context(route.name);
      let response: HttpResponseInit | undefined;
      try {
        response = (await route.handler(request, context)) as HttpResponseInit | undefined;
      } catch (error) {
        this.#failed(route.name, context, error);
        return reply(res, 500, { error: "the function failed; see its log" });
      }
      const responseHeaders = Object.fromEntries(new Headers(response?.headers as ConstructorParameters<typeof Headers>[0]).entries());
      // A body other than jsonBody (HTML, text, a CSV or JSON-lines stream — a ReadableStream is an async iterable too) is written as the host writes it, streamed when it is one.
      if (response?.body !== undefined && response.body !== null && response.jsonBody === undefined) return this.#writeBody(res, response.status ?? 200, response.body, responseHeaders, route.name, context);
      return reply(res, response?.status ?? 200, response?.jsonBody ?? {}, responseHeaders);
    }
    throw new HostRefusal(404, `no function serves ${url.pathname.slice(0, 200)}`);
  }

  // POST /admin/functions/{name}: runs a non-HTTP function now (a timer, as if due), answering 202 at
  // once; the master key in x-functions-key, else 401.
  async #serveAdmin(req: IncomingMessage, res: ServerResponse, _url: URL, name: string): Promise<void> {
    const presented = headerValue(req, "x-functions-key") ?? "";
    if (presented === "" || !sameKey(presented, this.#masterKey)) throw new HostRefusal(401, "");
    if (req.method !== "POST") throw new HostRefusal(405, "use POST");
    await readBody(req, this.#maxBodyBytes);
    if (!this.#timers.some((t) => t.name.toLowerCase() === name.toLowerCase())) throw new HostRefusal(404, `no timer function named '${name.slice(0, 200)}'`);
    const timer = this.#timers.find((t) => t.name.toLowerCase() === name.toLowerCase())!;
    void this.fireTimer(timer.name);
    return replyText(res, 202);
  }

  // Text and bytes are sent whole; an async iterable (the stream enableHttpStream allows) chunk by chunk. A stream
  // that fails part-way ends the connection without the last chunk, so the client sees a broken transfer.
  async #writeBody(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>, functionName: string, context: InvocationContext): Promise<void> {
    if (typeof body === "string" || body instanceof Uint8Array) {
      res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/octet-stream", ...headers });
      res.end(body);
      return;
    }
    if (typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) throw new TypeError(`the function ${functionName} answered a body the dev host does not send (a string, bytes or an async iterable)`);
    res.writeHead(status, headers);
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        if (!res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve));
      }
      res.end();
    } catch (error) {
      this.#failed(functionName, context, error);
      res.destroy();
    }
  }

  // /runtime/webhooks/{extension}: the host's system-key check, then the Event Grid extension's
  // HTTP handling (handshakes, the aeg-event-type header, the body parsed as JSON before any function).
  async #serveWebhook(req: IncomingMessage, res: ServerResponse, url: URL, extension: string): Promise<void> {
    if (!WEBHOOK_METHODS.has(req.method ?? "")) throw new HostRefusal(405, `use ${[...WEBHOOK_METHODS].join(", ")}`);
    this.#authorize(req, url, extension);
    if (extension.toLowerCase() !== "eventgrid") throw new HostRefusal(404, "");
    const functionName = url.searchParams.get("functionName") ?? "";
    const handler = this.#eventGrid.get(functionName);
    if (!handler) throw new HostRefusal(404, `cannot find function: '${functionName.slice(0, 200)}'`);

    if (req.method === "OPTIONS") {
      // CloudEvents abuse protection: a known Event Grid origin is echoed, any other gets the public cloud's.
      const origin = req.headers["webhook-request-origin"];
      const allowed = typeof origin === "string" && EVENT_GRID_ORIGINS.has(origin) ? origin : "eventgrid.azure.net";
      return replyText(res, 200, "", { "webhook-allowed-origin": allowed });
    }
    const eventType = headerValue(req, "aeg-event-type")?.toLowerCase();
    if (eventType === "subscriptionvalidation") {
      const code = validationCode(parseJsonBody(await readBody(req, this.#maxBodyBytes)));
      return reply(res, 200, { validationResponse: code });
    }
    if (eventType === "notification") {
      const body = parseJsonBody(await readBody(req, this.#maxBodyBytes));
      if (typeof body !== "object" || body === null) throw new HostRefusal(500, `The request content should be parseable into a JSON object or array, but was ${jsonTypeOf(body)}.`);
      // Event Grid schema: an array of events. CloudEvents: one event, or an array in batch mode.
      const events: unknown[] = Array.isArray(body) ? body : [body];
      // Every event of a batch is its own invocation, all at once; any failure fails the whole delivery.
      const failures = (await Promise.all(events.map((event) => this.#invokeEventGrid(functionName, handler, event)))).filter((f) => f !== null);
      return failures.length > 0 ? replyText(res, 500, failures[0]) : replyText(res, 202);
    }
    if (eventType === "unsubscribe") return replyText(res, 202);
    throw new HostRefusal(400, "");
  }

  // The host's SystemKeyAuthLevel policy: the key (x-functions-key header first, else ?code=) must be
  // the system key named {extension}_extension. No key or an unknown one: 401; another key: 403.
  #authorize(req: IncomingMessage, url: URL, extension: string): void {
    const presented = headerValue(req, "x-functions-key") ?? url.searchParams.get("code") ?? "";
    const name = [...this.#systemKeys].find(([, key]) => presented !== "" && sameKey(presented, key))?.[0];
    if (name === undefined) throw new HostRefusal(401, "");
    if (name !== `${extension}_extension`.toLowerCase()) throw new HostRefusal(403, "");
  }

  // One event of a delivery: bound to an object (else the binding fails, as the extension's does), then invoked.
  async #invokeEventGrid(functionName: string, handler: EventGridHandler<unknown>, event: unknown): Promise<string | null> {
    const context = this.#context(functionName);
    try {
      if (typeof event !== "object" || event === null || Array.isArray(event)) {
        throw new Error(`Unable to bind a JSON ${jsonTypeOf(event)} to an Event Grid event: each event must be a JSON object`);
      }
      await handler(event, context);
      return null;
    } catch (error) {
      this.#failed(functionName, context, error);
      return `invocation of ${functionName} failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

// A request URL as it may be logged: short, and without its key.
function shownUrl(req: IncomingMessage): string {
  return (req.url ?? "").slice(0, 200).replace(/([?&]code=)[^&]*/i, "$1***");
}

/** A queue message as the trigger hands it to the function: base64-decoded (by default), then JSON when it parses as JSON. */
export function decodeQueueMessage(text: string, encoding: QueueHostSettings["messageEncoding"]): unknown {
  let body = text;
  if (encoding === "base64") {
    // The extension refuses a message that is not valid base64; the invocation fails like any other.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error(`the message is not valid base64 (host.json extensions.queues.messageEncoding is base64)`);
    body = Buffer.from(text, "base64").toString("utf8");
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameKey(presented: string, key: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

// The extension parses with Json.NET: invalid JSON, or JSON nested deeper than 64, throws before any
// function runs, and the host answers 500.
function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HostRefusal(500, `the request body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw new HostRefusal(500, `The reader's MaxDepth of ${MAX_JSON_DEPTH} has been exceeded.`);
  return value;
}

function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

// The Event Grid schema's handshake carries the code in the first event's data; the CloudEvents one
// double-encodes data as JSON text. Anything else throws in the extension: 500.
function validationCode(body: unknown): string {
  const field = (value: unknown, key: string): unknown => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined);
  let code: unknown;
  if (Array.isArray(body)) code = field(field(body[0], "data"), "validationCode");
  else if (typeof body === "object" && body !== null) {
    const data = field(body, "data");
    try {
      code = field(typeof data === "string" ? JSON.parse(data) : data, "validationCode");
    } catch {
      code = undefined;
    }
  } else throw new HostRefusal(500, `The request content should be parseable into a JSON object or array, but was ${jsonTypeOf(body)}.`);
  if (typeof code !== "string" && typeof code !== "number") throw new HostRefusal(500, "Object reference not set to an instance of an object (no data.validationCode).");
  return String(code);
}

function jsonTypeOf(value: unknown): string {
  return value === null ? "Null" : Array.isArray(value) ? "Array" : typeof value === "string" ? "String" : typeof value === "number" ? "Number" : typeof value === "boolean" ? "Boolean" : "Object";
}
