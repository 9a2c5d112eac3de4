import { randomUUID } from "node:crypto";
import { closeServer, listenOnLoopback, readText, reply } from "./listen.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import functions from "@azure/functions";
import { functionRegistrations } from "../functions/index.js";
import { describeError } from "../shared/errors.js";

/** A line a function logged, with the function and invocation it came from. */
export interface HostLog {
  readonly functionName: string;
  readonly invocationId: string;
  readonly level: string;
  readonly message: string;
}

type Context = InstanceType<typeof functions.InvocationContext>;
type Handler = (input: never, context: Context) => Promise<unknown>;
type Registration = { readonly name: string; readonly trigger: string; readonly handler: Handler; readonly localPeriodMs?: number; readonly route?: string; readonly methods?: readonly string[] };

/**
 * The dev host: serves the functions that functions/ registers the way the Functions host does,
 * at the same webhook path (/runtime/webhooks/EventGrid?functionName=…), Event Grid and
 * CloudEvents 1.0 schemas, including the validation handshakes.
 */
export class DevHost {
  #server: Server | undefined;
  #url = "";
  readonly #handlers: ReadonlyMap<string, Handler>;

  readonly #timers: readonly { name: string; handler: Handler; periodMs: number }[];
  readonly #http: readonly { name: string; handler: Handler; pattern: RegExp; params: string[]; methods: readonly string[] }[];
  readonly #running = new Set<ReturnType<typeof setInterval>>();

  constructor(
    private readonly onLog: (log: HostLog) => void,
    registrations: readonly Registration[] = functionRegistrations,
  ) {
    this.#handlers = new Map(registrations.filter((r) => r.trigger === "eventGrid").map((r) => [r.name.toLowerCase(), r.handler]));
    this.#timers = registrations.filter((r) => r.trigger === "timer").map((r) => ({ name: r.name, handler: r.handler, periodMs: r.localPeriodMs ?? 60_000 }));
    this.#http = registrations
      .filter((r) => r.trigger === "http" && r.route)
      .map((r) => {
        const params: string[] = [];
        const body = r.route!.split("/").map((segment) => {
          const param = /^\{(\w+)\}$/.exec(segment)?.[1];
          if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          params.push(param);
          return "([^/]+)";
        });
        return { name: r.name, handler: r.handler, pattern: new RegExp(`^/api/${body.join("/")}$`, "i"), params, methods: r.methods ?? ["GET", "POST"] };
      });
  }

  /** The URL of an HTTP function's route (as the host serves it under /api). */
  httpUrl(path: string): string {
    return `${this.#url}/api/${path.replace(/^\//, "")}`;
  }

  /** Fires a timer function now, as the host does on schedule; false when it failed (logged). */
  async fireTimer(name: string): Promise<boolean> {
    const timer = this.#timers.find((t) => t.name === name);
    if (!timer) throw new Error(`no timer function named '${name}'`);
    return this.#invoke(timer.name, timer.handler, { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: {} });
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

  #context(functionName: string): Context {
    const invocationId = randomUUID();
    return new functions.InvocationContext({
      functionName,
      invocationId,
      logHandler: (level, ...args) => this.onLog({ functionName, invocationId, level, message: args.map(String).join(" ") }),
    });
  }

  async #invoke(functionName: string, handler: Handler, input: unknown): Promise<boolean> {
    const context = this.#context(functionName);
    try {
      await handler(input as never, context);
      return true;
    } catch (error) {
      this.onLog({ functionName, invocationId: context.invocationId, level: "error", message: `invocation failed: ${describeError(error)}` });
      return false;
    }
  }

  // HTTP functions, as the host serves them: route parameters, the request, the HttpResponseInit back.
  async #serveHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    for (const route of this.#http) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      if (!route.methods.includes(req.method ?? "GET")) return reply(res, 405, { error: `use ${route.methods.join(" or ")}` });
      const params = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]));
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : Array.isArray(v) ? [[k, v.join(", ")]] : [])));
      const request = new functions.HttpRequest({ method: req.method ?? "GET", url: url.toString(), headers, params, body: { string: await readText(req) } });
      const context = this.#context(route.name);
      try {
        const response = (await route.handler(request as never, context)) as { status?: number; jsonBody?: unknown; headers?: ConstructorParameters<typeof Headers>[0] } | undefined;
        return reply(res, response?.status ?? 200, response?.jsonBody ?? {}, Object.fromEntries(new Headers(response?.headers).entries()));
      } catch (error) {
        this.onLog({ functionName: route.name, invocationId: context.invocationId, level: "error", message: `invocation failed: ${describeError(error)}` });
        return reply(res, 500, { error: "the function failed; see its log" });
      }
    }
    return reply(res, 404, { error: `no function serves ${url.pathname}` });
  }

  get url(): string {
    return this.#url;
  }

  /** The webhook URL of an Event Grid function. */
  eventGridUrl(functionName: string): string {
    return `${this.#url}/runtime/webhooks/EventGrid?functionName=${encodeURIComponent(functionName)}`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#url = `http://127.0.0.1:${await listenOnLoopback(server, port)}`;
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const handle of this.#running) clearInterval(handle);
    this.#running.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://host");
    if (url.pathname.toLowerCase().startsWith("/api/")) return this.#serveHttp(req, res, url);
    if (url.pathname.toLowerCase() !== "/runtime/webhooks/eventgrid") return reply(res, 404, { error: `no route ${url.pathname}` });
    const functionName = url.searchParams.get("functionName") ?? "";
    const handler = this.#handlers.get(functionName.toLowerCase());
    if (!handler) return reply(res, 404, { error: `no Event Grid function named '${functionName}'` });

    if (req.method === "OPTIONS") {
      // CloudEvents 1.0 abuse protection: allow the origin that asks.
      const origin = req.headers["webhook-request-origin"];
      res.writeHead(200, { "webhook-allowed-origin": typeof origin === "string" ? origin : "*", "webhook-allowed-rate": "*" });
      return void res.end();
    }
    if (req.method !== "POST") return reply(res, 405, { error: "use POST" });

    const text = await readText(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text; // handed to the function as is: it records the delivery as rejected, not JSON
    }
    if (req.headers["aeg-event-type"] === "SubscriptionValidation") {
      const code = Array.isArray(body) ? (body[0] as { data?: { validationCode?: unknown } } | undefined)?.data?.validationCode : undefined;
      return typeof code === "string" ? reply(res, 200, { validationResponse: code }) : reply(res, 400, { error: "no validationCode" });
    }

    // Event Grid schema: an array of events. CloudEvents: one event, or an array in batch mode.
    const events = Array.isArray(body) ? body : [body];
    const failures: string[] = [];
    for (const event of events) {
      if (!(await this.#invoke(functionName, handler, event))) failures.push(`invocation of ${functionName} failed`);
    }
    // Any failed invocation fails the delivery, so Event Grid retries it (handlers are idempotent).
    return failures.length ? reply(res, 500, { error: failures.join("; ") }) : reply(res, 200, {});
  }
}
