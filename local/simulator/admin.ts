import type { FaultRule, FaultSwitch } from "./faults.js";
import { HttpError, type ServiceRequest, type ServiceResponse, type SimulatedService } from "./http.js";

/** One request the simulator answered, for tests that prove retries and caching. */
export interface RequestLogEntry {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/**
 * The simulator's own routes (not Azure's): the fault switch over HTTP (POST a rule, DELETE to
 * clear) and the request log, for a running `npm start`.
 */
export class AdminRoutes implements SimulatedService {
  constructor(
    private readonly faults: FaultSwitch,
    private readonly requests: readonly RequestLogEntry[],
  ) {}

  /** "simulator.faults" for POST/DELETE /_simulator/faults, "simulator.requests" for GET /_simulator/requests. */
  routeOf(method: string, lowerPath: string): string | null {
    if (lowerPath === "/_simulator/faults" && (method === "POST" || method === "DELETE")) return "simulator.faults";
    if (lowerPath === "/_simulator/requests" && method === "GET") return "simulator.requests";
    return null;
  }

  /** Adds or clears fault rules, or lists the requests answered so far. */
  handle({ route, req, body }: ServiceRequest): ServiceResponse {
    if (route === "simulator.requests") return { status: 200, body: { value: this.requests } };
    if (req.method === "DELETE") {
      this.faults.clear();
      return { status: 200, body: { cleared: true } };
    }
    const rule = parseFaultRule(body);
    if (typeof rule === "string") throw new HttpError(400, { error: { code: "InvalidFaultRule", message: rule } });
    this.faults.add(rule);
    return { status: 201, body: rule };
  }
}

/** A fault rule from a request body, or what is wrong with it. */
function parseFaultRule(body: unknown): FaultRule | string {
  if (typeof body !== "object" || body === null) return "the body must be a JSON object";
  const { route, status, retryAfterSeconds, latencyMs, count } = body as Record<string, unknown>;
  if (typeof route !== "string" || route === "") return "route is required, e.g. \"arm.roleAssignments.get\" or \"arm.*\"";
  const optionalNumber = (value: unknown, name: string, min: number, max: number) =>
    value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) ? null : `${name} must be an integer from ${min} to ${max}`;
  const problem = optionalNumber(status, "status", 400, 599) ?? optionalNumber(retryAfterSeconds, "retryAfterSeconds", 0, 3600) ?? optionalNumber(latencyMs, "latencyMs", 0, 600_000) ?? optionalNumber(count, "count", 1, 1_000_000);
  if (problem) return problem;
  if (status === undefined && latencyMs === undefined) return "give a status, a latencyMs, or both";
  return { route, status: status as number | undefined, retryAfterSeconds: retryAfterSeconds as number | undefined, latencyMs: latencyMs as number | undefined, count: count as number | undefined };
}
