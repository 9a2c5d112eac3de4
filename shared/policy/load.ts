import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseDocument, isScalar, Scalar } from "yaml";
import { GrantGuardError, PolicyLoadError, PolicyValidationError } from "../errors.js";
import { compileCondition, paramsObject } from "./cel.js";
import { policyDocumentSchema, type ParameterValue, type Policy, type PolicyDocument } from "./policy.js";
import { factsForTest } from "./testing.js";
import { EXEMPTIONS_FILE, loadExemptions, type Exemption } from "./exemptions.js";

/** Every policy file of a directory, or every problem found in them. */
export type PolicyLoadResult =
  | { readonly status: "ok"; readonly policies: readonly Policy[] }
  | { readonly status: "invalid"; readonly policies: readonly Policy[]; readonly errors: readonly PolicyValidationError[] };

// Defined with the other errors, so that reporting one does not load the policy engine.
export { PolicyLoadError };

/** Parses, validates and compiles one policy file's text. */
export function parsePolicyFile(file: string, text: string): Policy | PolicyValidationError {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  const idNode = doc.get("id", true);
  const policyId = isScalar(idNode) && typeof idNode.value === "string" ? idNode.value : undefined;

  const yamlError = doc.errors[0];
  if (yamlError) return new PolicyValidationError(file, lineAt(yamlError.pos[0]), policyId, `YAML: ${yamlError.message.split("\n")[0]}`);

  const parsed = policyDocumentSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0];
    const node = typeof key === "string" ? doc.get(key, true) : undefined;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    return new PolicyValidationError(file, lineAt(range?.[0]) ?? 1, policyId, `${where}${issue.message}`);
  }

  const document = parsed.data;
  // A subscription finding names no assignment: there is nothing a revocation could take back.
  if (document.subject === "subscription" && document.action === "revoke") {
    return new PolicyValidationError(file, lineAt((doc.get("action", true) as { range?: [number, number, number] } | undefined)?.range?.[0]) ?? 1, document.id, "action: a subscription policy can only alert");
  }
  const policy = buildPolicy(document, file, document.parameters);
  if ("offset" in policy) {
    return new PolicyValidationError(file, conditionLine(doc.get("condition", true), lineAt, text, policy.offset), document.id, `condition: ${policy.message}`);
  }
  // Test cases are checked now, so a mistyped fact fails the load, not the test run.
  for (const [index, test] of document.tests.entries()) {
    const testNode = doc.getIn(["tests", index], true) as { range?: [number, number, number] } | undefined;
    const where = lineAt(testNode?.range?.[0]);
    try {
      factsForTest(test.facts);
    } catch (error) {
      return new PolicyValidationError(file, where, document.id, `tests[${index}] "${test.name}": ${(error as Error).message}`);
    }
    const unknown = Object.keys(test.parameters).filter((name) => !(name in document.parameters));
    if (unknown.length) return new PolicyValidationError(file, where, document.id, `tests[${index}] "${test.name}": unknown parameter(s) ${unknown.join(", ")}`);
    if ("offset" in buildPolicy(document, file, { ...document.parameters, ...test.parameters })) {
      return new PolicyValidationError(file, where, document.id, `tests[${index}] "${test.name}": its parameters do not fit the condition`);
    }
  }
  return policy;
}

/** Compiles a policy document with these parameter values; a CEL error instead when it does not compile. */
function buildPolicy(document: PolicyDocument, file: string, parameters: Readonly<Record<string, ParameterValue>>): Policy | { message: string; offset: number | undefined } {
  const params = paramsObject(parameters);
  const compiled = compileCondition(document.condition, params);
  if (compiled.status === "error") return compiled.error;
  const { evaluate, interpret } = compiled;
  return {
    ...document,
    parameters: { ...parameters },
    file,
    reads: compiled.reads,
    params,
    matches: (context) => evaluate(context) === true,
    matchesInterpreted: (context) => interpret(context) === true,
    compiledToJs: compiled.compiledToJs,
    withParameters(values) {
      const rebuilt = buildPolicy(document, file, values);
      if ("offset" in rebuilt) throw new TypeError(`policy ${document.id}: ${rebuilt.message}`);
      return rebuilt;
    },
  };
}

// Line of the CEL error. The condition's value is its source lines with indentation removed,
// joined by one character (a newline, or a space when folded), so walk those raw lines until
// the offset falls inside one. A block scalar (`|`, `>`) starts on the line after its header.
function conditionLine(node: unknown, lineAt: (o: number | undefined) => number | undefined, text: string, offset: number | undefined): number | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  const start = lineAt(range?.[0]);
  if (!range || start === undefined) return undefined;
  const block = node instanceof Scalar && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED);
  const lines = text.slice(range[0], range[1]).split("\n");
  if (block) lines.shift();
  let consumed = 0;
  for (const [index, raw] of lines.entries()) {
    consumed += raw.trim().length + 1;
    if (offset === undefined || offset < consumed) return start + (block ? 1 : 0) + index;
  }
  return start;
}

/** Loads every `*.yaml`/`*.yml` policy in a directory (sorted by name), reporting every broken file and duplicate id. */
export async function loadPolicyDir(dir: string): Promise<PolicyLoadResult> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n) && n !== EXEMPTIONS_FILE).sort();
  } catch (error) {
    throw new GrantGuardError(`cannot read the policy directory ${dir}`, { cause: error });
  }
  const policies: Policy[] = [];
  const errors: PolicyValidationError[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const result = parsePolicyFile(file, await readFile(file, "utf8"));
    if (result instanceof PolicyValidationError) {
      errors.push(result);
    } else if (seen.has(result.id)) {
      errors.push(new PolicyValidationError(file, 1, result.id, `duplicate policy id, also in ${seen.get(result.id)}`));
    } else {
      seen.set(result.id, file);
      policies.push(result);
    }
  }
  if (names.length === 0) errors.push(new PolicyValidationError(dir, undefined, undefined, "no policy files (*.yaml) found"));
  return errors.length ? { status: "invalid", policies, errors } : { status: "ok", policies };
}

/** A policy directory as grantguard judges with it: enabled policies and the exemptions beside them. */
export interface PolicyPack {
  readonly dir: string;
  readonly policies: readonly Policy[];
  readonly exemptions: readonly Exemption[];
}

/**
 * Loads policies and exemptions from a directory, or several separated by commas (a team's own
 * policies beside the built-in pack); throws PolicyLoadError with every problem when any file is
 * broken or two directories define the same policy id.
 */
export async function loadPolicyPack(dirs: string): Promise<PolicyPack> {
  const list = dirs.split(",").map((d) => d.trim()).filter((d) => d !== "");
  const results = await Promise.all(list.map((dir) => loadPolicyDir(dir)));
  const policies = results.flatMap((r) => r.policies);
  const errors = results.flatMap((r) => (r.status === "invalid" ? r.errors : []));
  const seen = new Map<string, string>();
  for (const p of policies) {
    const other = seen.get(p.id);
    if (other) errors.push(new PolicyValidationError(p.file, 1, p.id, `duplicate policy id, also in ${other}`));
    seen.set(p.id, p.file);
  }
  const ids = new Set(policies.map((p) => p.id));
  const exemptions = await Promise.all(list.map((dir) => loadExemptions(dir, ids)));
  errors.push(...exemptions.flatMap((e) => e.errors));
  if (errors.length) throw new PolicyLoadError(errors);
  return { dir: list.join(","), policies: policies.filter((p) => p.enabled), exemptions: exemptions.flatMap((e) => e.exemptions) };
}

/** Loads a policy directory's enabled policies, throwing PolicyLoadError when any file is broken. */
export async function loadPolicies(dir: string): Promise<readonly Policy[]> {
  return (await loadPolicyPack(dir)).policies;
}
