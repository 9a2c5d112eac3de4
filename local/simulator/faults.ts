/** A fault to inject on a route: an error status (with Retry-After), added latency, or both. */
export interface FaultRule {
  /** Route name (e.g. "arm.roleAssignments.get"), a prefix ending in "*" ("arm.*"), or "*". */
  readonly route: string;
  /** Answer with this status instead of serving the request (omit for latency only). */
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly latencyMs?: number;
  /** How many matching requests the fault applies to (default: all until cleared). */
  readonly count?: number;
}

/** The simulator's fault switch: rules are applied in order, the first match wins. */
export class FaultSwitch {
  #rules: { rule: FaultRule; remaining: number }[] = [];

  add(rule: FaultRule): void {
    this.#rules.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The fault for this request, consuming one use of it; undefined when none applies. */
  take(route: string): FaultRule | undefined {
    const entry = this.#rules.find(({ rule, remaining }) => remaining > 0 && matches(rule.route, route));
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.rule;
  }
}

function matches(pattern: string, route: string): boolean {
  if (pattern === "*") return true;
  return pattern.endsWith("*") ? route.startsWith(pattern.slice(0, -1)) : pattern === route;
}
