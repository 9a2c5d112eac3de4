import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import functions from "@azure/functions";
import type { EventGridHandler, HttpHandler, HttpResponseInit, InvocationContext, TimerHandler } from "@azure/functions";
import { closeServer, listenOnLoopback, readBody, reply, replyText, RequestBodyTooLargeError } from "./listen.js";
import { functionRegistrations, type FunctionRegistration } from "../functions/index.js";
import { describeError } from "../shared/errors.js";

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
  readonly #maxBodyBytes: number;
  readonly #eventGrid: ReadonlyMap<string, EventGridHandler<unknown>>;
  readonly #timers: readonly { readonly name: string; readonly handler: TimerHandler; readonly periodMs: number }[];
  readonly #http: readonly HttpRoute[];
  readonly #running = new Set<ReturnType<typeof setInterval>>();

  constructor(
    private readonly onLog: (log: HostLog) => void,
    options: DevHostOptions = {},
  ) {
    const registrations = options.registrations ?? functionRegistrations;
    this.#maxBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const eventGrid = new Map<string, EventGridHandler<unknown>>();
    const timers: { name: string; handler: TimerHandler; periodMs: number }[] = [];
    const http: HttpRoute[] = [];
    for (const r of registrations) {
      if (r.trigger === "eventGrid") eventGrid.set(r.name, r.handler);
      else if (r.trigger === "timer") timers.push({ name: r.name, handler: r.handler, periodMs: r.localPeriodMs });
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

  /** Fires every timer function on its local period until stop(); a run never overlaps the previous one. */
  startTimers(): void {
    for (const timer of this.#timers) {
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

  /** Stops the timers and closes every connection. */
  async stop(): Promise<void> {
    for (const handle of this.#running) clearInterval(handle);
    this.#running.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  #context(functionName: string): InvocationContext {
    const invocationId = randomUUID();
    return new functions.InvocationContext({
      functionName,
      invocationId,
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
      // A body other than jsonBody (HTML, a CSV stream) is written as the host writes it, streamed when it is an async iterable.
      if (response?.body !== undefined && response.body !== null && response.jsonBody === undefined) return this.#writeBody(res, response.status ?? 200, response.body, responseHeaders, route.name, context);
      return reply(res, response?.status ?? 200, response?.jsonBody ?? {}, responseHeaders);
    }
    throw new HostRefusal(404, `no function serves ${url.pathname.slice(0, 200)}`);
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
