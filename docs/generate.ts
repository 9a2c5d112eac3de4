// Generates docs/policy-reference.md, the policy authors' reference, from the code itself: the
// fact catalogue, the policy and exemption schemas, the test baseline, the built-in pack, and
// error messages produced by loading broken examples. Every example shown is loaded (and its
// test cases run) while generating, so the document fails to build rather than drift.
//
//   npx tsx docs/generate.ts           writes docs/policy-reference.md
//   npx tsx docs/generate.ts --check   exits 1 when the file on disk is not what it would write

import { readFile, writeFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isScalar, parseDocument, Scalar, stringify } from "yaml";
import { toCelContext } from "../shared/facts/build.js";
import { FACT_CATALOGUE, FACT_VARIABLES, type FactSpec } from "../shared/facts/catalogue.js";
import { PolicyValidationError } from "../shared/errors.js";
import { compileCondition, paramsObject } from "../shared/policy/cel.js";
import { EXEMPTIONS_FILE, exemptionFor, parseExemptions, type Exemption } from "../shared/policy/exemptions.js";
import { loadPolicyDir, parsePolicyFile, PolicyLoadError } from "../shared/policy/load.js";
import { SEVERITIES } from "../shared/model/severity.js";
import { policyDocumentSchema, policyTestSchema, type ParameterValue, type Policy, type PolicyDocument, type PolicyTest } from "../shared/policy/policy.js";
import { baselineFacts, runPolicyTests } from "../shared/policy/testing.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const POLICIES_DIR = resolve(ROOT, "policies");
/** Where the reference is written, relative to the repository root. */
export const REFERENCE_FILE = "docs/policy-reference.md";

// ---------------------------------------------------------------------------------------------
// Markdown helpers

/** A value as readable JSON (CEL ints, which are bigints, as plain numbers). */
function json(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(json).join(", ")}]`;
  return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v)) ?? "null";
}

/** Inline code that survives backticks inside the text. */
function code(text: string): string {
  if (!text.includes("`")) return `\`${text}\``;
  return `\`\` ${text} \`\``;
}

/** Text made safe for one table cell. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)];
}

function fence(language: string, text: string): string[] {
  return [`\`\`\`${language}`, ...text.replace(/\n+$/, "").split("\n"), "```"];
}

/** Author-written text (titles, descriptions, names) as Markdown: code spans kept, emphasis and HTML characters escaped elsewhere. */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/[*\\]|\B_|_\B/g, (c) => `\\${c}`).replace(/</g, "&lt;")))
    .join("");
}

/** Folded YAML prose (descriptions) as one paragraph. */
function paragraph(text: string): string {
  return prose(text.replace(/\s+/g, " ").trim());
}

// ---------------------------------------------------------------------------------------------
// Facts

/** The type of a fact in words. `dyn` facts hold a string, a bool or an int, or null: which one is read from the example and the description. */
export function factTypeLabel(spec: FactSpec): string {
  switch (spec.type) {
    case "list<string>":
      return "list of strings";
    case "dyn": {
      if (typeof spec.example === "number") return "int or null";
      if (typeof spec.example === "boolean" || /\b(true|false)\b/i.test(spec.description)) return "bool or null";
      if (typeof spec.example === "string" || spec.example === null) return "string or null";
      return "string, bool or null";
    }
    default:
      return spec.type;
  }
}

const catalogueEntries = () =>
  FACT_VARIABLES.map((variable) => [variable, Object.entries(FACT_CATALOGUE[variable] as Record<string, FactSpec>)] as const);

/** Every fact path of the catalogue ("role.privileged"), in catalogue order. */
export function factPaths(): string[] {
  return catalogueEntries().flatMap(([variable, fields]) => fields.map(([field]) => `${variable}.${field}`));
}

// ---------------------------------------------------------------------------------------------
// Examples, loaded while generating

const EXAMPLE_FILE = "policies/guest-owner-production.yaml";

function examplePolicyText(): string {
  const base = baselineFacts();
  const owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
  return `id: guest-owner-production
title: Guest holding Owner on a production subscription
severity: critical             # ${[...SEVERITIES].reverse().join(" | ")}
action: alert                  # ${policyDocumentSchema.shape.action.options.join(" | ")}
enabled: true                  # false keeps the file but never judges with it
description: >
  A guest user holds Owner somewhere inside a subscription this team lists as production.
  People from other organisations should reach production through a reviewed, time-bound
  process, not a standing role.
references:
  - "Internal standard SEC-12: no standing external access to production"
parameters:
  ownerRole: "${owner}"
  production: ["${String(base.scope.subscriptionId)}"]
condition: >
  principal.guest
  && role.guid == params.ownerRole
  && scope.subscriptionId in params.production
tests:
  - name: a guest with Owner on a production resource group
    expect: match
    facts:
      principal: { kind: guest, guest: true, external: true }
      role: { guid: "${owner}", name: Owner, privileged: true, canWrite: true }
  - name: a member with Owner (near miss)
    expect: no-match
    facts:
      role: { guid: "${owner}", name: Owner, privileged: true, canWrite: true }
  - name: the same guest once no subscription is listed as production (near miss)
    expect: no-match
    parameters: { production: [] }
    facts:
      principal: { kind: guest, guest: true, external: true }
      role: { guid: "${owner}", name: Owner, privileged: true, canWrite: true }
`;
}

/** Loads a policy text that must load and whose test cases must all pass. */
function loadGoodExample(file: string, text: string): Policy {
  const policy = parsePolicyFile(file, text);
  if (policy instanceof PolicyValidationError) throw new Error(`the reference's example ${file} does not load: ${policy.message}`);
  const failed = runPolicyTests([policy]).filter((r) => !r.passed);
  if (failed.length) throw new Error(`the reference's example ${file} fails its tests: ${failed.map((r) => `${r.name} (${r.actual}) ${r.detail}`).join("; ")}`);
  return policy;
}

/** Loads a policy text that must fail, and returns the message grantguard prints. */
function loadError(file: string, text: string): string {
  const result = parsePolicyFile(file, text);
  if (!(result instanceof PolicyValidationError)) throw new Error(`the reference's broken example ${file} loaded without an error`);
  return result.message;
}

/** A minimal policy around one condition (and optional extra YAML), for the error examples. */
function smallPolicy(id: string, condition: string, extra = ""): string {
  return `id: ${id}
title: Example for the reference
severity: low
action: alert
description: A short example used to show what grantguard reports.
condition: ${condition}
${extra}`;
}

/** Compiles a CEL snippet against the catalogue; the CEL error message when it does not compile. */
function compileMessage(condition: string, parameters: Readonly<Record<string, ParameterValue>> = {}): string | undefined {
  const compiled = compileCondition(condition, paramsObject(parameters));
  return compiled.status === "error" ? compiled.error.message : undefined;
}

function mustCompile(condition: string, parameters: Readonly<Record<string, ParameterValue>> = {}): string {
  const error = compileMessage(condition, parameters);
  if (error !== undefined) throw new Error(`the reference's CEL example does not compile: ${condition}: ${error}`);
  return condition;
}

function mustFail(condition: string, parameters: Readonly<Record<string, ParameterValue>> = {}): string {
  const error = compileMessage(condition, parameters);
  if (error === undefined) throw new Error(`the reference's CEL example was expected to fail but compiles: ${condition}`);
  return error;
}

/** Evaluates a condition on the test baseline (with no parameters), for the statements the reference makes about CEL. */
function onBaseline(condition: string): unknown {
  const params = paramsObject({});
  const compiled = compileCondition(condition, params);
  if (compiled.status === "error") throw new Error(`the reference's CEL example does not compile: ${condition}: ${compiled.error.message}`);
  return compiled.interpret({ ...toCelContext(baselineFacts()), params });
}

/** The statements the reference makes about CEL semantics, checked against cel-js. */
function checkCelClaims(): void {
  const claims: [string, boolean][] = [
    ["`all` is true on an empty list", onBaseline(`role.dataActions.all(a, a.endsWith("/read"))`) === true],
    ["a null bool is not `== false`", onBaseline("assignment.viaPim == false") === false],
    ["a null fact equals null", onBaseline("assignment.viaPim == null") === true],
    ["`&&` stops at a false null test", onBaseline(`assignment.condition != null && assignment.condition.startsWith("x")`) === false],
    ["ints and doubles do not mix in ==", compileMessage("atScope.owners == 3.0") !== undefined],
  ];
  const wrong = claims.filter(([, holds]) => !holds).map(([claim]) => claim);
  if (wrong.length) throw new Error(`the reference's statements about CEL no longer hold: ${wrong.join("; ")}`);
}

/** The condition as its author wrote it: a block scalar keeps its lines; other styles give the value. */
function conditionAsWritten(text: string, policy: Policy): string {
  const node = parseDocument(text).get("condition", true);
  if (node instanceof Scalar && (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL) && node.range) {
    const lines = text.slice(node.range[0], node.range[1]).split("\n").slice(1);
    while (lines.length && lines[lines.length - 1]!.trim() === "") lines.pop();
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
    return lines.map((l) => l.slice(indent)).join("\n");
  }
  return isScalar(node) && typeof node.value === "string" ? node.value.trim() : policy.condition.trim();
}

// ---------------------------------------------------------------------------------------------
// Field documentation, checked against the schemas

interface FieldDoc {
  readonly text: string;
}

const POLICY_FIELDS = {
  id: { text: "Unique id of the policy: 3 to 80 lower-case letters, digits and dashes. Findings are keyed by it, so renaming a policy starts its findings afresh." },
  title: { text: "One line (5 to 200 characters) shown in findings and logs." },
  severity: { text: `One of ${SEVERITIES.map(code).join(", ")}.` },
  description: { text: "Why the match is a risk and what to do about it, for the reviewer who reads the finding (20 characters at least). A folded block (`>`) keeps it readable." },
  action: { text: "What grantguard should do on a match: `alert` records a finding; `revoke` is accepted but today only recorded as what it would do (audit only)." },
  condition: { text: "A CEL expression over the facts and `params` that must yield a bool: true means the assignment matches." },
  enabled: { text: "Set to `false` to keep a policy in the directory without judging with it." },
  subject: { text: "What one evaluation judges: `assignment` (the default: every role assignment, on every path) or `subscription` (once per subscription, only in a tenant sweep, which sees all of its assignments). A subscription's facts are those of its scope (`scope.*`, `atScope.*`); the assignment, role and principal facts are empty, and its finding is keyed by the subscription id (see the README's sweep section). Subscription policies only alert." },
  references: { text: "Where the rule comes from (benchmarks, vendor guidance, internal standards), as a list of strings." },
  parameters: { text: "Named thresholds and lists the condition reads as `params.NAME` (see [Parameters](#parameters))." },
  tests: { text: "Test cases run by `grantguard test` (see [Testing a policy](#testing-a-policy))." },
} as const satisfies Record<keyof PolicyDocument, FieldDoc>;

const TEST_FIELDS = {
  name: { text: "What the case shows (3 characters at least). The built-in pack ends the name of a case that must not match with `(near miss)`." },
  expect: { text: "`match` or `no-match`." },
  facts: { text: "Facts that differ from the baseline, as `variable: { field: value }`." },
  parameters: { text: "Parameter values that differ from the policy's own, for this case only." },
} as const satisfies Record<keyof PolicyTest, FieldDoc>;

type ExemptionField = Exclude<keyof Exemption, "file" | "line">;

const EXEMPTION_FIELDS = {
  id: { text: "Unique id of the exemption within the file: 3 to 80 lower-case letters, digits and dashes. Findings it covers record it." },
  policy: { text: "The id of a loaded policy, or `*` for every policy." },
  principalId: { text: "Object id of the principal it covers (compared without regard to case). Without it, any principal." },
  scope: { text: "An ARM scope starting with `/`: it covers assignments at that scope and every scope below it (case and a trailing `/` do not matter). Without it, any scope." },
  owner: { text: "Who answers for the accepted risk (3 characters at least); findings record it." },
  justification: { text: "Why the risk is accepted (20 characters at least)." },
  expires: { text: "When the exemption stops covering matches: a date (`2027-03-31`, meaning the end of that day, UTC) or an ISO 8601 time." },
} as const satisfies Record<ExemptionField, FieldDoc>;

/** Required, or the default the schema fills in. */
function requirement(field: { safeParse(value: unknown): { success: boolean; data?: unknown } }): string {
  const empty = field.safeParse(undefined);
  if (!empty.success) return "yes";
  return empty.data === undefined ? "no" : `no, default ${code(json(empty.data))}`;
}

function checkDocumented(what: string, schemaKeys: readonly string[], documented: readonly string[]): void {
  const missing = schemaKeys.filter((k) => !documented.includes(k));
  const extra = documented.filter((k) => !schemaKeys.includes(k));
  if (missing.length || extra.length) throw new Error(`${what}: undocumented field(s) [${missing.join(", ")}], documented but unknown [${extra.join(", ")}]`);
}

// ---------------------------------------------------------------------------------------------
// Exemptions example

const EXEMPTIONS_EXAMPLE_FILE = `policies/${EXEMPTIONS_FILE}`;

function exemptionsExampleText(): string {
  return `exemptions:
  - id: break-glass-owner
    policy: privileged-role-direct-to-user
    principalId: 3f2a9c61-0d4e-4b7a-9e15-6c8d2b7f4a10
    owner: platform-security@contoso.com
    justification: Emergency access account, stored offline and monitored by the SOC.
    expires: 2027-03-31
  - id: sandbox-subscription
    policy: "*"
    scope: /subscriptions/5d1c7e2b-9a4f-4c3e-8b6d-2f0a1e9c7b35
    owner: cloud-platform@contoso.com
    justification: Isolated sandbox with no production data, rebuilt every week.
    expires: 2026-12-31T18:00:00Z
`;
}

function parseExemptionsExample(text: string, policyIds: ReadonlySet<string>): { exemptions: Exemption[]; errors: PolicyValidationError[] } {
  return parseExemptions(EXEMPTIONS_EXAMPLE_FILE, text, policyIds);
}

/** Which exemption fields the parser insists on: an entry without the field fails to load. */
function exemptionRequirements(policyIds: ReadonlySet<string>): Map<string, string> {
  const entry: Record<string, string> = { id: "example", policy: "deleted-principal", principalId: "3f2a9c61-0d4e-4b7a-9e15-6c8d2b7f4a10", scope: "/subscriptions/5d1c7e2b-9a4f-4c3e-8b6d-2f0a1e9c7b35", owner: "someone@contoso.com", justification: "A justification long enough to pass.", expires: "2027-03-31" };
  if (parseExemptionsExample(stringify({ exemptions: [entry] }), policyIds).errors.length) throw new Error("the reference's full exemption entry does not load");
  return new Map(
    Object.keys(EXEMPTION_FIELDS).map((field) => {
      const without = Object.fromEntries(Object.entries(entry).filter(([k]) => k !== field));
      return [field, parseExemptionsExample(stringify({ exemptions: [without] }), policyIds).errors.length ? "yes" : "no"];
    }),
  );
}

/** The matching rules the reference states, checked against exemptionFor with the example's exemptions. */
function checkExemptionClaims(exemptions: readonly Exemption[]): void {
  const [person, sandbox] = exemptions;
  if (!person?.principalId || !sandbox?.scope || person.scope !== undefined || sandbox.principalId !== undefined || sandbox.policy !== "*") throw new Error("the reference's exemptions example changed shape");
  const who = person.principalId;
  const where = sandbox.scope;
  const early = new Date("2026-06-01T00:00:00Z");
  const covers = (e: Exemption, policyId: string, principalId: string, scope: string, now = early) => exemptionFor([e], policyId, { principalId, scope }, now)?.id === e.id;
  const claims: [string, boolean][] = [
    ["a principal id matches in any case", covers(person, person.policy, who.toUpperCase(), "/subscriptions/any")],
    ["an exemption covers only its policy", !covers(person, "deleted-principal", who, "/subscriptions/any")],
    ["without a principal, any principal", covers(sandbox, "deleted-principal", "anyone", where)],
    ["a scope covers itself, with or without a trailing /", covers(sandbox, "x", "p", where) && covers(sandbox, "x", "p", `${where}/`)],
    ["a scope covers what is below it, in any case", covers(sandbox, "x", "p", `${where.toUpperCase()}/resourceGroups/rg-a`)],
    ["a scope does not cover its parent or a sibling", !covers(sandbox, "x", "p", "/subscriptions") && !covers(sandbox, "x", "p", `${where}0`)],
    ["a date lasts to the end of that day, UTC", covers(person, person.policy, who, "/", new Date(`${person.expires.slice(0, 10)}T23:59:00Z`))],
    ["an expired exemption covers nothing", !covers(person, person.policy, who, "/", new Date(person.expires))],
    ["the first exemption that covers a match is recorded", exemptionFor([sandbox, { ...sandbox, id: "second" }], "x", { principalId: "p", scope: where }, early)?.id === sandbox.id],
  ];
  const wrong = claims.filter(([, holds]) => !holds).map(([claim]) => claim);
  if (wrong.length) throw new Error(`the reference's statements about exemptions no longer hold: ${wrong.join("; ")}`);
}

function exemptionError(text: string, policyIds: ReadonlySet<string>): string {
  const { errors } = parseExemptionsExample(text, policyIds);
  if (!errors[0]) throw new Error("the reference's broken exemption example loaded without an error");
  return errors[0].message;
}

// ---------------------------------------------------------------------------------------------
// The document

const severityRank = (s: Policy["severity"]) => SEVERITIES.indexOf(s);

/** Loads every policy of the built-in directory (enabled or not), failing on any broken file. */
async function builtInPolicies(): Promise<{ policy: Policy; text: string; file: string }[]> {
  const result = await loadPolicyDir(POLICIES_DIR);
  if (result.status === "invalid") throw new PolicyLoadError(result.errors);
  const sorted = [...result.policies].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id));
  return Promise.all(sorted.map(async (policy) => ({ policy, text: await readFile(policy.file, "utf8"), file: relative(ROOT, policy.file).split(sep).join("/") })));
}

/** Renders the whole reference. Pure apart from reading the policy directory. */
export async function renderReference(): Promise<string> {
  const policies = await builtInPolicies();
  const policyIds = new Set(policies.map((p) => p.policy.id));
  const out: string[] = [];
  const add = (...lines: string[]) => out.push(...lines);

  checkDocumented("policy file", Object.keys(policyDocumentSchema.shape), Object.keys(POLICY_FIELDS));
  checkDocumented("policy test case", Object.keys(policyTestSchema.shape), Object.keys(TEST_FIELDS));

  // --- Intro
  add(
    "<!-- Generated by docs/generate.ts from the code and policies/. Do not edit by hand: run `npm run docs`. -->",
    "",
    "# Policy reference",
    "",
    "This is the reference for people who write grantguard policies. A policy is a YAML file holding a CEL condition over the *facts* grantguard gathers about one Azure role assignment; when the condition is true, the assignment gets a finding. The reference is generated from the code: the facts come from the fact catalogue, the examples and error messages are produced by loading them, and the built-in policies are read from `policies/`.",
    "",
    "- [Writing a policy](#writing-a-policy)",
    "- [Parameters](#parameters)",
    "- [Testing a policy](#testing-a-policy)",
    "- [Exempting a match](#exempting-a-match)",
    "- [Facts](#facts)",
    "- [Built-in policies](#built-in-policies)",
    "",
  );

  // --- Writing a policy
  const exampleText = examplePolicyText();
  loadGoodExample(EXAMPLE_FILE, exampleText);
  add(
    "## Writing a policy",
    "",
    "A policy directory holds one policy per `*.yaml` or `*.yml` file (read in file-name order); `" + EXEMPTIONS_FILE + "` in the same directory holds exemptions and is not a policy. The built-in pack is `policies/`; grantguard judges with another directory when `GRANTGUARD_POLICIES_DIR` (or `--policies DIR`) names one. Two files with the same `id` are an error.",
    "",
    "A complete policy file (this example is loaded and its tests are run each time the reference is generated):",
    "",
    ...fence("yaml", exampleText),
    "",
    ...table(
      ["field", "required", "meaning"],
      Object.entries(POLICY_FIELDS).map(([name, doc]) => [code(name), requirement(policyDocumentSchema.shape[name as keyof PolicyDocument]), doc.text]),
    ),
    "",
    "Any other key is an error, so a misspelt field cannot be silently ignored.",
    "",
  );

  // CEL
  checkCelClaims();
  const boolError = mustFail("role.name");
  const nullableBoolError = mustFail("principal.enabled");
  const runtimeText = smallPolicy("upn-domain", `principal.userPrincipalName.endsWith("@fabrikam.com")`, "tests:\n  - name: a principal with no UPN\n    expect: no-match\n    facts:\n      principal: { userPrincipalName: null }\n");
  const runtimePolicy = parsePolicyFile("policies/upn-domain.yaml", runtimeText);
  if (runtimePolicy instanceof PolicyValidationError) throw new Error(`the reference's run-time example does not load: ${runtimePolicy.message}`);
  const runtimeResult = runPolicyTests([runtimePolicy])[0];
  if (!runtimeResult || runtimeResult.actual !== "error") throw new Error("the reference's run-time example did not fail at run time");
  const cheatSheet: [string, string][] = [
    [mustCompile(`scope.level in ["managementGroup", "subscription"]`), "`in` tests membership of a list; here a list literal."],
    [mustCompile("role.guid in params.roles", { roles: ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"] }), "…or of a list parameter."],
    [mustCompile(`"Microsoft.Authorization/roleAssignments/write" in role.privilegedActions`), "…or of a list fact."],
    [mustCompile("size(role.duplicateOf) > 0"), "`size()` of a list (or string) is an int."],
    [mustCompile(`role.dataActions.exists(a, a.startsWith("Microsoft.KeyVault/"))`), "`exists`: some element satisfies the predicate."],
    [mustCompile(`role.actions.all(a, a.endsWith("/read"))`), "`all`: every element does (true for an empty list)."],
    [mustCompile(`principal.workloadResourceGroups.exists_one(g, g.endsWith("/rg-web-prod"))`), "`exists_one`: exactly one element does."],
    [mustCompile(`scope.id.startsWith("/providers/Microsoft.Management/managementGroups/")`), "String functions: `startsWith`, `endsWith`, `contains`."],
    [mustCompile(`principal.userPrincipalName != null && principal.userPrincipalName.endsWith("@fabrikam.com")`), "Test a nullable fact for null before calling a function on it: `&&` stops at the first false."],
    [mustCompile("assignment.viaPim == false"), "A nullable bool compared with `==`: true only when the fact is known to be false, never when it is null."],
    [mustCompile("atScope.owners * 100 > params.maxPercent * atScope.assignments", { maxPercent: 10 }), "Integer arithmetic on counts and int parameters."],
    [mustCompile("double(atScope.owners) / double(atScope.assignments) > params.maxShare", { maxShare: 0.25 }), "Convert with `double()` to compute with a double parameter."],
  ];
  add(
    "### Conditions",
    "",
    `A condition is a [CEL](https://github.com/google/cel-spec) expression. It reads the fact variables ${FACT_VARIABLES.map(code).join(", ")} (see [Facts](#facts)) and \`params\` (see [Parameters](#parameters)). What matters when writing one here:`,
    "",
    "- **It must yield a bool.** A condition of another type is refused at load, for example " + code("role.name") + ": " + code(boolError) + ".",
    "- **Facts are never missing, but some may be null.** Every fact in the catalogue is present on every assignment, so `has()` is never needed. Facts typed *string or null*, *bool or null* or *int or null* are null where Azure has no value (no PIM data, no UPN, not a managed identity, no logs…). Test a nullable int before comparing it (`principal.daysSinceSignIn != null && principal.daysSinceSignIn >= params.days`): an ordering on null is a run-time error. Compare them with `==` and `!=` (`assignment.viaPim == false`, `principal.displayName != null`); a nullable bool is not itself a condition: " + code("principal.enabled") + " is refused with " + code(nullableBoolError) + ".",
    "- **The type checker lets calls on nullable facts through, and they fail at run time on null.** An error at run time is recorded as an evaluation error for that policy and assignment, not as a match. The test case below expects `no-match` and gets `" + runtimeResult.actual + "` instead:",
    "",
    ...fence("yaml", runtimeText),
    "",
    ...fence("text", `${runtimeResult.name}: ${runtimeResult.detail}`),
    "",
    "- **Counts are CEL ints.** `atScope.*` facts and `size()` are ints, and so are whole-number parameters. CEL does not mix ints and doubles in arithmetic or `==`: " + code("atScope.owners * 2.5 > 1.0") + " is refused with " + code(mustFail("atScope.owners * 2.5 > 1.0")) + ". Write int literals (`3`, not `3.0`) or convert with `double()`.",
    "- **Strings compare exactly.** Decide on ids rather than display names: `role.guid` (lower case) rather than `role.name`, which is only informative. `scope.subscriptionId` is lower case; `assignment.principalType` is as ARM reports it.",
    "",
    "Useful forms (each compiles against the fact catalogue):",
    "",
    ...table(["expression", "what it does"], cheatSheet.map(([expression, meaning]) => [code(expression), meaning])),
    "",
  );

  // Load errors
  const brokenCondition = `principal.guest && role.isOwner`;
  const brokenText = smallPolicy("guest-owner", brokenCondition);
  const brokenTestText = smallPolicy("guest-owner", "principal.guest && role.privileged", "tests:\n  - name: guest holding Owner\n    expect: match\n    facts:\n      principal: { guest: yes }\n");
  add(
    "### Load errors",
    "",
    "Every file is parsed, checked against the schema above, and its condition type-checked and compiled when the pack loads; test cases are checked too (unknown facts, values of the wrong type, unknown parameters). A broken file stops the load with its file, line, policy id and the error, and grantguard refuses to judge with a partial pack. This file:",
    "",
    ...fence("yaml", brokenText),
    "",
    "is refused with:",
    "",
    ...fence("text", loadError("policies/guest-owner.yaml", brokenText)),
    "",
    "and a test case that gives a fact a value of the wrong type (YAML reads `yes` as a string):",
    "",
    ...fence("text", loadError("policies/guest-owner.yaml", brokenTestText)),
    "",
  );

  // --- Parameters
  const paramTypes = (values: Readonly<Record<string, ParameterValue>>) =>
    Object.entries(values).map(([name, value]) => [code(name), code(json(value)), parameterTypeLabel(value)]);
  const unknownParam = loadError("policies/too-many-owners.yaml", smallPolicy("too-many-owners", "atScope.owners > params.maxOwner", "parameters:\n  maxOwners: 3\n"));
  const mixedParam = loadError("policies/owner-share.yaml", smallPolicy("owner-share", "atScope.owners * 100 > params.maxShare * atScope.assignments", "parameters:\n  maxShare: 12.5\n"));
  const unknownOverride = loadError("policies/too-many-owners.yaml", smallPolicy("too-many-owners", "atScope.owners > params.maxOwners", "parameters:\n  maxOwners: 3\ntests:\n  - name: stricter\n    expect: match\n    parameters: { maxOwner: 2 }\n    facts:\n      atScope: { owners: 3 }\n"));
  const badOverride = loadError("policies/too-many-owners.yaml", smallPolicy("too-many-owners", "atScope.owners > params.maxOwners", "parameters:\n  maxOwners: 3\ntests:\n  - name: stricter\n    expect: match\n    parameters: { maxOwners: \"2\" }\n    facts:\n      atScope: { owners: 3 }\n"));
  add(
    "## Parameters",
    "",
    "Thresholds and lists belong in `parameters:` rather than in the condition, so a team can tune them without rewriting the rule. The condition reads them as `params.NAME`; names are identifiers (letters, digits and `_`, not starting with a digit). A value is a number, a string, a bool or a list of strings, and its CEL type follows from the value:",
    "",
    ...table(["YAML value", "CEL type"], [
      [code("3"), parameterTypeLabel(3)],
      [code("12.5"), parameterTypeLabel(12.5)],
      [code('"8e3af657-…"'), parameterTypeLabel("8e3af657")],
      [code("true"), parameterTypeLabel(true)],
      [code('["a", "b"]'), parameterTypeLabel(["a", "b"])],
    ]),
    "",
    `A number without a fraction is an int, even when written \`3.0\` (YAML reads it as ${json((parseDocument("x: 3.0").toJS() as { x: unknown }).x)}, then ${parameterTypeLabel(3.0)}). Each policy's parameters are typed on their own, so the checker catches a misspelt name:`,
    "",
    ...fence("text", unknownParam),
    "",
    "and a double where the condition computes with ints (`maxShare: 12.5` in `atScope.owners * 100 > params.maxShare * atScope.assignments`):",
    "",
    ...fence("text", mixedParam),
    "",
    "A test case may override parameters for itself with `parameters:` (see the third case of the example above). It may only name parameters the policy declares, and the values must still fit the condition:",
    "",
    ...fence("text", `${unknownOverride}\n${badOverride}`),
    "",
    "The built-in policies' parameters and their defaults are listed with [each policy](#built-in-policies).",
    "",
  );

  // --- Testing a policy
  const baseline = baselineFacts() as unknown as Record<string, Record<string, unknown>>;
  add(
    "## Testing a policy",
    "",
    "`tests:` is a list of cases; each describes an assignment by how it differs from a neutral baseline, and says whether the policy must match it. Write at least one case that matches and one *near miss* that differs in one decisive fact and must not match.",
    "",
    ...table(["field", "required", "meaning"], Object.entries(TEST_FIELDS).map(([name, doc]) => [code(name), requirement(policyTestSchema.shape[name as keyof PolicyTest]), doc.text])),
    "",
    "Overrides are applied one field at a time on top of the baseline and are checked at load against the catalogue: an unknown variable or field, or a value of the wrong type, fails the load. Ints must be whole numbers; *string or null*, *bool or null* and *int or null* facts take a string, a bool, a whole number or null; lists take lists of strings. Facts are not derived from one another in a test case: setting `role.privileged: true` leaves `role.canWrite` false, so set every fact the condition reads.",
    "",
    "### The baseline",
    "",
    "Every case starts from this assignment: a member user, enabled, holding Reader on a resource group, granted by a member, with no PIM data. None of the built-in policies matches it.",
    "",
    ...table(["fact", "baseline value"], FACT_VARIABLES.flatMap((variable) => Object.keys(FACT_CATALOGUE[variable]).map((field) => [code(`${variable}.${field}`), code(json(baseline[variable]?.[field]))]))),
    "",
    "### Commands",
    "",
    ...table(["command", "what it does"], [
      [code("npx grantguard validate [DIR]"), "Loads a policy directory (default: the built-in `policies/`) and its exemptions, and reports every broken file with its line."],
      [code("npx grantguard test [DIR]"), "Loads the directory and runs every test case of every policy, reporting the cases whose outcome differs from `expect`."],
      [code("npx grantguard evaluate --tenant FILE [--policies DIR]"), "A what-if: judges every role assignment of a tenant snapshot (JSON) with the policies and exemptions, without calling Azure, and reports the findings it would record."],
    ]),
    "",
  );

  // --- Exemptions
  const exemptionsText = exemptionsExampleText();
  const parsedExemptions = parseExemptionsExample(exemptionsText, policyIds);
  if (parsedExemptions.errors.length) throw new Error(`the reference's exemptions example does not load: ${parsedExemptions.errors[0]!.message}`);
  checkExemptionClaims(parsedExemptions.exemptions);
  const required = exemptionRequirements(policyIds);
  const blanket = exemptionError(`exemptions:\n  - id: everything\n    policy: "*"\n    scope: /\n    owner: someone@contoso.com\n    justification: We accept every risk everywhere, for now.\n    expires: 2027-01-31\n`, policyIds);
  const unknownPolicy = exemptionError(`exemptions:\n  - id: typo\n    policy: guest-privileged-roles\n    principalId: 3f2a9c61-0d4e-4b7a-9e15-6c8d2b7f4a10\n    owner: someone@contoso.com\n    justification: Contractor finishing the migration, approved in CHG-2231.\n    expires: 2027-01-31\n`, policyIds);
  add(
    "## Exempting a match",
    "",
    `An accepted risk is written in \`${EXEMPTIONS_FILE}\` beside the policies, reviewed like them. An exemption does not stop the policy from matching: the match is still recorded, with status \`exempted\` and the exemption's id, owner and expiry, instead of \`open\`.`,
    "",
    ...fence("yaml", exemptionsText),
    "",
    ...table(["field", "required", "meaning"], Object.entries(EXEMPTION_FIELDS).map(([name, doc]) => [code(name), required.get(name) ?? "no", doc.text])),
    "",
    `An exemption covers a match when it has not expired, names the policy (or \`*\`), and its principal and scope, where given, fit the assignment; the first one in the file that covers it is recorded. Expiry dates are read as the end of the day in UTC: the example's first \`expires\` becomes \`${parsedExemptions.exemptions[0]!.expires}\`. Once an exemption has expired, the next judgement of the assignment (a new event for it, or a what-if run) records the match as \`open\` again.`,
    "",
    "An exemption for every policy (`policy: \"*\"`) must name a principal, or a scope below `/`:",
    "",
    ...fence("text", blanket),
    "",
    "and an exemption must name a policy the pack loads:",
    "",
    ...fence("text", unknownPolicy),
    "",
  );

  // --- Facts
  add(
    "## Facts",
    "",
    `A condition sees ${FACT_VARIABLES.length} variables describing one role assignment. Every fact is always present; the types *string or null*, *bool or null* and *int or null* are CEL \`dyn\` values that are null where Azure has no value; the sign-in and activity facts are known only to a tenant sweep, which reads the logs, and are null (or empty, with \`activity.known\` false) on the event path and in the what-if. Examples use JSON; \`…\` shortens long ids.`,
    "",
  );
  for (const [variable, fields] of catalogueEntries()) {
    add(`### \`${variable}\``, "", ...table(["fact", "type", "meaning", "example"], fields.map(([field, spec]) => [code(`${variable}.${field}`), factTypeLabel(spec), prose(spec.description), code(json(spec.example))])), "");
  }

  // --- Built-in policies
  add(
    "## Built-in policies",
    "",
    `The ${policies.length} policies of \`policies/\`, by severity, then id.`,
    "",
    ...table(["id", "severity", "title"], policies.map(({ policy }) => [`[${policy.id}](#${policy.id})`, policy.severity, prose(policy.title)])),
    "",
  );
  for (const { policy, text, file } of policies) {
    add(
      `### ${policy.id}`,
      "",
      `**${prose(policy.title)}**`,
      "",
      `- Severity: ${policy.severity}`,
      `- Default action: ${policy.action}`,
      ...(policy.enabled ? [] : ["- Enabled: no (`enabled: false`)"]),
      `- File: ${code(file)}`,
      "",
      paragraph(policy.description),
      "",
    );
    if (policy.references.length) add("References:", "", ...policy.references.map((r) => `- ${prose(r)}`), "");
    add("Condition:", "", ...fence("cel", conditionAsWritten(text, policy)), "");
    if (Object.keys(policy.parameters).length) {
      add("Parameters:", "", ...table(["parameter", "default", "CEL type"], paramTypes(policy.parameters)), "");
    }
    add(`Facts read: ${policy.reads.map((path) => `[${code(path)}](#${path.split(".")[0]!.toLowerCase()})`).join(", ")}`, "");
    if (policy.tests.length) {
      add(
        "Test cases:",
        "",
        ...table(["case", "expects"], policy.tests.map((t) => {
          const overrides = Object.entries(t.parameters);
          const suffix = overrides.length ? ` (with ${overrides.map(([k, v]) => `${code(`${k}: ${json(v)}`)}`).join(", ")})` : "";
          return [`${prose(t.name)}${suffix}`, t.expect];
        })),
        "",
      );
    }
  }

  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}

/** The CEL type grantguard gives a parameter value, asked of CEL itself (`type(params.x)`). */
function parameterTypeLabel(value: ParameterValue): string {
  const params = paramsObject({ x: value });
  const celTypes: [string, string][] = [["int", "int"], ["double", "double"], ["string", "string"], ["bool", "bool"], ["list", "list of strings"]];
  for (const [celType, label] of celTypes) {
    const compiled = compileCondition(`type(params.x) == ${celType}`, params);
    if (compiled.status === "ok" && compiled.interpret({ params }) === true) return label;
  }
  throw new Error(`no CEL type found for the parameter value ${json(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Script

async function main(argv: readonly string[]): Promise<number> {
  const target = resolve(ROOT, REFERENCE_FILE);
  const rendered = await renderReference();
  if (argv.includes("--check")) {
    const current = await readFile(target, "utf8").catch(() => undefined);
    if (current !== rendered) {
      console.error(`${REFERENCE_FILE} is out of date: run npm run docs`);
      return 1;
    }
    console.log(`${REFERENCE_FILE} is up to date`);
    return 0;
  }
  await writeFile(target, rendered, "utf8");
  console.log(`wrote ${REFERENCE_FILE}`);
  return 0;
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
