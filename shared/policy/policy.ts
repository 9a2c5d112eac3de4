import { z } from "zod";
import { SEVERITIES } from "../model/severity.js";

/** What a policy judges: one role assignment, or one subscription as a whole. */
export const POLICY_SUBJECTS = ["assignment", "subscription"] as const;
export type PolicySubject = (typeof POLICY_SUBJECTS)[number];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A threshold or list a policy declares, read by its condition as `params.NAME`. */
export const parameterValueSchema = z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]);
export type ParameterValue = z.infer<typeof parameterValueSchema>;

/** One test case: facts that differ from the neutral baseline, and whether the policy must match. */
export const policyTestSchema = z.strictObject({
  name: z.string().min(3),
  expect: z.enum(["match", "no-match"]),
  facts: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  parameters: z.record(z.string(), parameterValueSchema).default({}),
});
export type PolicyTest = z.infer<typeof policyTestSchema>;

/** A policy file's fields, before its condition is compiled. */
export const policyDocumentSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,79}$/, "must be 3-80 lower-case letters, digits and dashes"),
  title: z.string().min(5).max(200),
  severity: z.enum(SEVERITIES),
  description: z.string().min(20, "must explain the risk to a reviewer (20 characters at least)"),
  action: z.enum(["alert", "revoke"]),
  condition: z.string().min(1),
  enabled: z.boolean().default(true),
  /** What one evaluation judges: a role assignment (every path), or a whole subscription (only a tenant sweep sees every assignment of one). */
  subject: z.enum(POLICY_SUBJECTS).default("assignment"),
  references: z.array(z.string()).default([]),
  parameters: z.record(z.string().regex(IDENTIFIER, "parameter names are identifiers"), parameterValueSchema).default({}),
  tests: z.array(policyTestSchema).default([]),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

/** A loaded policy: its document, where it came from, the compiled condition and the facts it reads. */
export interface Policy extends PolicyDocument {
  readonly file: string;
  /** Fact paths the condition reads (e.g. "principal.guest"), in order of appearance. */
  readonly reads: readonly string[];
  /** The parameters as the condition sees them (`params`), built once. */
  readonly params: object;
  /** The compiled condition: true when the assignment matches. Throws on a run-time CEL error. */
  readonly matches: (context: Record<string, object>) => boolean;
  /** The same condition run by cel-js's interpreter: the oracle for the compiled one. */
  readonly matchesInterpreted: (context: Record<string, object>) => boolean;
  /** True when the condition runs as compiled JavaScript (else the interpreter runs it). */
  readonly compiledToJs: boolean;
  /** Compiles the same condition with other parameter values (test cases that override them). */
  withParameters(parameters: Readonly<Record<string, ParameterValue>>): Policy;
}
