import { toCelContext, type Facts } from "../facts/build.js";
import type { Policy, PolicySubject } from "./policy.js";

/** One policy that matched, with the values of the facts its condition read. */
export interface PolicyMatch {
  readonly policy: Policy;
  readonly matchedFacts: Readonly<Record<string, unknown>>;
}

/** A condition that failed at run time: recorded, never dropped. */
export interface PolicyEvaluationError {
  readonly policyId: string;
  readonly message: string;
}

export interface Evaluation {
  readonly matches: readonly PolicyMatch[];
  readonly errors: readonly PolicyEvaluationError[];
}

/** Reads a dotted fact path ("role.privileged") from the facts, as plain JSON (CEL ints become numbers). */
export function factValue(facts: Facts, path: string): unknown {
  const [variable, field] = path.split(".") as [keyof Facts, string];
  const value = (facts[variable] as Record<string, unknown> | undefined)?.[field] ?? null;
  return typeof value === "bigint" ? Number(value) : value;
}

/** Evaluates every policy of this subject (an assignment unless told) against its facts. Pure: no I/O, no clock. */
export function evaluatePolicies(policies: readonly Policy[], facts: Facts, subject: PolicySubject = "assignment"): Evaluation {
  const context: Record<string, object> = toCelContext(facts);
  const matches: PolicyMatch[] = [];
  const errors: PolicyEvaluationError[] = [];
  for (const policy of policies) {
    // A subscription policy reads the facts of a subscription, never those of one assignment.
    if (policy.subject !== subject) continue;
    let matched: boolean;
    context.params = policy.params;
    try {
      matched = policy.matches(context);
    } catch (error) {
      errors.push({ policyId: policy.id, message: error instanceof Error ? error.message.split("\n")[0]! : String(error) });
      continue;
    }
    if (matched) {
      matches.push({ policy, matchedFacts: Object.fromEntries(policy.reads.map((path) => [path, factValue(facts, path)])) });
    }
  }
  return { matches, errors };
}

/** A one-line explanation of a match: the policy title and each fact it read with its value. */
export function explainMatch(match: PolicyMatch): string {
  const values = Object.entries(match.matchedFacts).map(([path, value]) => `${path} = ${JSON.stringify(value)}`);
  return `${match.policy.title}: ${values.join(", ")}`;
}
