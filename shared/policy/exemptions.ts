import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { PolicyValidationError } from "../errors.js";

/** The file in a policy directory that holds its exemptions (never read as a policy). */
export const EXEMPTIONS_FILE = "exemptions.yaml";

const exemptionSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{2,79}$/, "must be 3-80 lower-case letters, digits and dashes"),
    policy: z.string().min(1).describe("a policy id, or * for every policy"),
    principalId: z.string().min(1).optional(),
    scope: z.string().startsWith("/", "must be an ARM scope starting with /").optional(),
    owner: z.string().min(3, "must name who answers for the exemption"),
    justification: z.string().min(20, "must say why the risk is accepted (20 characters at least)"),
    expires: z.union([z.string(), z.date()]).transform((value, ctx) => {
      const time = value instanceof Date ? value : new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59Z` : value);
      if (Number.isNaN(time.getTime())) {
        ctx.addIssue({ code: "custom", message: "must be a date (2027-03-31) or an ISO 8601 time" });
        return z.NEVER;
      }
      return time.toISOString();
    }),
  })
  .refine((e) => e.policy !== "*" || e.principalId !== undefined || (e.scope !== undefined && e.scope !== "/"), {
    message: "an exemption for every policy must name a principal or a scope below the root",
  });

/** An accepted risk: which matches it covers, who owns it, why, and until when. */
export type Exemption = z.infer<typeof exemptionSchema> & { readonly file: string; readonly line: number | undefined };

const fileSchema = z.strictObject({ exemptions: z.array(z.unknown()).default([]) });

/** Parses and validates an exemptions file; every problem with its line. `policyIds` are the ids it may name. */
export function parseExemptions(file: string, text: string, policyIds: ReadonlySet<string>): { exemptions: Exemption[]; errors: PolicyValidationError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineAt = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  if (doc.errors[0]) return { exemptions: [], errors: [new PolicyValidationError(file, lineCounter.linePos(doc.errors[0].pos[0]).line, undefined, `YAML: ${doc.errors[0].message.split("\n")[0]}`)] };
  const top = fileSchema.safeParse(doc.toJS() ?? {});
  if (!top.success) return { exemptions: [], errors: [new PolicyValidationError(file, 1, undefined, `expected a list under 'exemptions': ${top.error.issues[0]?.message}`)] };

  const exemptions: Exemption[] = [];
  const errors: PolicyValidationError[] = [];
  const seen = new Set<string>();
  top.data.exemptions.forEach((raw, index) => {
    const node = doc.getIn(["exemptions", index], true);
    const line = lineAt(node);
    const parsed = exemptionSchema.safeParse(raw);
    const label = typeof (raw as { id?: unknown })?.id === "string" ? (raw as { id: string }).id : `exemptions[${index}]`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const key = issue.path[0];
      const keyLine = typeof key === "string" ? lineAt(doc.getIn(["exemptions", index, key], true)) : undefined;
      errors.push(new PolicyValidationError(file, keyLine ?? line, label, `exemption: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`));
      return;
    }
    if (parsed.data.policy !== "*" && !policyIds.has(parsed.data.policy)) {
      errors.push(new PolicyValidationError(file, lineAt(doc.getIn(["exemptions", index, "policy"], true)) ?? line, label, `exemption: no policy '${parsed.data.policy}' is loaded`));
      return;
    }
    if (seen.has(parsed.data.id)) {
      errors.push(new PolicyValidationError(file, line, label, "exemption: duplicate id"));
      return;
    }
    seen.add(parsed.data.id);
    exemptions.push({ ...parsed.data, file, line });
  });
  return { exemptions, errors };
}

/** Reads `exemptions.yaml` of a policy directory; none when the file does not exist. */
export async function loadExemptions(dir: string, policyIds: ReadonlySet<string>): Promise<{ exemptions: Exemption[]; errors: PolicyValidationError[] }> {
  const file = join(dir, EXEMPTIONS_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { exemptions: [], errors: [] };
    throw error;
  }
  return parseExemptions(file, text, policyIds);
}

const within = (scope: string, parent: string) => {
  const s = scope.replace(/\/+$/, "").toLowerCase() || "/";
  const p = parent.replace(/\/+$/, "").toLowerCase() || "/";
  return p === "/" || s === p || s.startsWith(`${p}/`);
};

/** The first exemption in force at `now` that covers this policy's match on this assignment. */
export function exemptionFor(exemptions: readonly Exemption[], policyId: string, assignment: { principalId: string; scope: string }, now: Date): Exemption | undefined {
  const at = now.toISOString();
  return exemptions.find(
    (e) =>
      e.expires > at &&
      (e.policy === "*" || e.policy === policyId) &&
      (e.principalId === undefined || e.principalId.toLowerCase() === assignment.principalId.toLowerCase()) &&
      (e.scope === undefined || within(assignment.scope, e.scope)),
  );
}
