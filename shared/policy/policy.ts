import { z } from "zod";

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A policy file's fields, before its condition is compiled. */
export const policyDocumentSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,79}$/, "must be 3-80 lower-case letters, digits and dashes"),
  title: z.string().min(5).max(200),
  severity: z.enum(SEVERITIES),
  description: z.string().min(20, "must explain the risk to a reviewer (20 characters at least)"),
  action: z.enum(["alert", "revoke"]),
  condition: z.string().min(1),
  enabled: z.boolean().default(true),
  references: z.array(z.string()).default([]),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

/** A loaded policy: its document, where it came from, the compiled condition and the facts it reads. */
export interface Policy extends PolicyDocument {
  readonly file: string;
  /** Fact paths the condition reads (e.g. "principal.guest"), in order of appearance. */
  readonly reads: readonly string[];
  /** The compiled condition: true when the assignment matches. Throws on a run-time CEL error. */
  readonly matches: (context: Record<string, object>) => boolean;
}
