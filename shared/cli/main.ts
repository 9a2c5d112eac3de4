import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DefaultAzureCredential } from "@azure/identity";
import { z } from "zod";
import { ArmRoleAssignmentWriter, createAuthorizationClient } from "../azure/arm.js";
import { TableClient } from "@azure/data-tables";
import { TableRevocationStore } from "../azure/revocationsTable.js";
import { TableAlertDeliveries } from "../azure/deliveriesTable.js";
import { rearmRevocation, restoreAssignment } from "../usecases/restoreAssignment.js";
import { withTokenTimeout } from "../azure/credential.js";
import { createGraphClient, GraphPrincipals } from "../azure/graph.js";
import { describeError, GrantGuardError, PolicyValidationError, SnapshotError } from "../errors.js";
import { parseGrantEvent } from "../model/event.js";
import { SEVERITIES, type Severity } from "../model/severity.js";
import type { Finding } from "../model/finding.js";
import { readTenantSnapshot } from "../model/snapshot.js";
import { loadExemptions } from "../policy/exemptions.js";
import { loadPolicyDir, loadPolicyPack, PolicyLoadError, type PolicyPack } from "../policy/load.js";
import { runPolicyTests } from "../policy/testing.js";
import { evaluateSnapshot } from "../usecases/evaluateSnapshot.js";
import { exportSnapshot } from "../azure/exportSnapshot.js";
import { json, table } from "./format.js";

/** Exit codes a pipeline can rely on. */
export const EXIT = { ok: 0, findings: 1, testsFailed: 1, invalid: 2, usage: 64, azure: 3 } as const;

const BUILT_IN_POLICIES = fileURLToPath(new URL("../../policies", import.meta.url));

class UsageError extends GrantGuardError {}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

const HELP: Record<string, string> = {
  main: `grantguard — Azure RBAC governance: policies as code over role assignments.

Usage: grantguard <command> [options]      (grantguard <command> --help for each)

Commands:
  evaluate           what-if: which assignments of a tenant snapshot each policy matches, and why
  test [DIR]         run every policy's test cases
  policies list      the loaded policies and the facts each one reads
  policies show ID   one policy in full
  validate [DIR]     check policy and exemption files; errors with file:line
  snapshot export    write a tenant snapshot from a live tenant (DefaultAzureCredential)
  revocations list   what grantguard revoked, with the backups, and the breaker's state
  alerts list        alert deliveries, with failures and their last error
  restore ID         put a revoked assignment back, with your own credentials
  rearm              re-arm revocation after the blast-radius cap stopped it

Exit codes: 0 ok; 1 findings at or above --fail-on (evaluate) or failed test cases (test);
2 invalid policy, exemption, snapshot or event file; 3 an Azure call failed; 64 bad usage.`,
  evaluate: `Usage: grantguard evaluate --tenant FILE [--event FILE] [--policies DIR] [--json] [--all] [--fail-on SEVERITY]

The what-if: evaluates every policy (and the exemptions beside them) against every role
assignment of a tenant snapshot, or only the one an Event Grid / CloudEvents event points at.
Nothing in Azure is read or changed.

  --tenant FILE      tenant snapshot (see the README's "Tenant snapshots")
  --event FILE       judge only the assignment this event names, granted by its caller
  --policies DIR     policy directory (default: the built-in pack)
  --json             print {"findings":[…]} with the fields stored in Table Storage
  --all              also list exempted matches in the table (JSON always has them)
  --fail-on SEV      exit 1 when an open finding is at or above SEV (low|medium|high|critical;
                     default low); "never" always exits 0`,
  test: `Usage: grantguard test [DIR] [--json]

Runs the test cases in every policy file of DIR (default: the built-in pack): one line per
case, then "N passed, N failed". Exit 1 when a case fails, 2 when a file is invalid.`,
  policies: `Usage: grantguard policies list [--policies DIR] [--json]
       grantguard policies show ID [--policies DIR] [--json]

Lists the loaded policies with the facts each condition reads, or shows one in full.`,
  validate: `Usage: grantguard validate [DIR] [--json]

Loads every policy file and exemptions.yaml of DIR (default: the built-in pack) and reports
every error as file:line [policy id]: message. Exit 2 when a file is invalid.`,
  restore: `Usage: grantguard restore ID --reason TEXT [--json]

Recreates a role assignment grantguard revoked, from its backup, with the same name and
properties, using YOUR Azure credentials (DefaultAzureCredential: az login…), so grantguard's
own identity never needs the right to create assignments. Records who restored it and why;
grantguard will not revoke that assignment again. Restoring twice changes nothing.
Needs GRANTGUARD_TABLE_ENDPOINT (where grantguard keeps its backups).`,
  rearm: `Usage: grantguard rearm --reason TEXT

Re-arms revocation after the blast-radius cap stopped it (GRANTGUARD_MAX_REVOCATIONS in
GRANTGUARD_REVOCATION_WINDOW_MINUTES), recording who and why. Needs GRANTGUARD_TABLE_ENDPOINT.`,
  alerts: `Usage: grantguard alerts list [--status pending|digest|delivered|failed] [--json]

Lists alert deliveries from the outbox: channel, status, attempts and the last error, so
alerts that keep failing are visible. Needs GRANTGUARD_TABLE_ENDPOINT.`,
  revocations: `Usage: grantguard revocations list [--json]

Lists grantguard's revocations (backups) and the state of the blast-radius breaker.
Needs GRANTGUARD_TABLE_ENDPOINT.`,
  snapshot: `Usage: grantguard snapshot export --scope SCOPE [--scope SCOPE …] [--out FILE] [--tenant-id ID]

Reads role assignments (at, above and below each scope), role definitions, PIM schedule
instances and the principals they name, through the same ARM and Microsoft Graph adapters the
functions use, and writes a tenant snapshot (stdout unless --out). Credentials come from
DefaultAzureCredential (az login, a managed identity, environment variables…).
GRANTGUARD_ARM_ENDPOINT and GRANTGUARD_GRAPH_ENDPOINT point it at another cloud.

  --scope SCOPE      e.g. /subscriptions/{id} or /providers/Microsoft.Management/managementGroups/{name}
  --out FILE         write here instead of stdout
  --tenant-id ID     tenant id to record (default: the token's tenant)`,
};

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

function parse<const T extends Options>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, ...HELP_OPTION }, allowPositionals: true, strict: true } as const);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

async function loadPack(dir: string): Promise<PolicyPack> {
  return loadPolicyPack(dir);
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

function describeFinding(f: Finding): string[] {
  const who = `${f.principalName ?? "(deleted identity)"} [${f.principalType} ${f.principalId}]`;
  const would = f.action === "revoke" ? "revoke the assignment in enforce mode unless a guard rail stops it (in audit mode: alert)" : "alert";
  return [
    `${f.severity.toUpperCase().padEnd(8)} ${f.policyId} — ${f.policyTitle}`,
    `         ${who} holds ${f.roleName} at ${f.scopeLevel} ${f.scope}${f.grantedBy ? `, granted by ${f.grantedBy}` : ""}`,
    `         why: ${f.reason.slice(f.policyTitle.length + 2)}`,
    f.status === "exempted" ? `         exempted by ${f.exemptionId} (owner ${f.exemptionOwner}) until ${f.exemptionExpires}` : `         would: ${would}`,
  ];
}

async function evaluate(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, { tenant: { type: "string" }, event: { type: "string" }, policies: { type: "string" }, json: { type: "boolean" }, all: { type: "boolean" }, "fail-on": { type: "string" } });
  if (values.help) return io.out(HELP.evaluate!), EXIT.ok;
  if (typeof values.tenant !== "string") throw new UsageError("evaluate needs --tenant FILE");
  const failOn = z.enum([...SEVERITIES, "never"]).safeParse(values["fail-on"] ?? "low");
  if (!failOn.success) throw new UsageError(`--fail-on must be one of ${[...SEVERITIES, "never"].join(", ")}`);
  const [snapshot, pack] = await Promise.all([readTenantSnapshot(values.tenant), loadPack(typeof values.policies === "string" ? values.policies : BUILT_IN_POLICIES)]);

  let assignmentIds: Set<string> | undefined;
  let grantedBy;
  if (typeof values.event === "string") {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(values.event, "utf8"));
    } catch (error) {
      throw new SnapshotError(`cannot read the event ${values.event}: ${describeError(error)}`, { cause: error });
    }
    const parsed = parseGrantEvent(Array.isArray(raw) && raw.length === 1 ? raw[0] : raw);
    if (parsed.status === "rejected") throw new SnapshotError(`${values.event}: ${parsed.reason}`);
    if (parsed.event.kind === "delete") throw new SnapshotError(`${values.event} is a delete event: there is nothing to evaluate`);
    if (!snapshot.roleAssignments.some((a) => a.id.toLowerCase() === parsed.event.assignmentId.toLowerCase())) {
      throw new SnapshotError(`${values.event} names ${parsed.event.assignmentId}, which ${values.tenant} does not contain`);
    }
    assignmentIds = new Set([parsed.event.assignmentId]);
    grantedBy = parsed.event.grantedBy;
  }

  const result = await evaluateSnapshot(snapshot, pack, { now: new Date(), assignmentIds, grantedBy });
  const findings = [...result.findings].sort((a, b) => rank(b.severity) - rank(a.severity) || a.policyId.localeCompare(b.policyId) || a.assignmentId.localeCompare(b.assignmentId));
  const open = findings.filter((f) => f.status === "open");
  if (values.json) {
    io.out(json({ findings }));
  } else {
    const shown = values.all ? findings : open;
    for (const f of shown) io.out(describeFinding(f).join("\n"));
    const bySeverity = SEVERITIES.slice().reverse().map((s) => `${open.filter((f) => f.severity === s).length} ${s}`).join(", ");
    const exempted = findings.length - open.length;
    io.out(`\n${open.length} open finding(s) (${bySeverity}) over ${result.assignments} assignment(s) and ${pack.policies.length} policies${exempted ? `; ${exempted} exempted${values.all ? "" : " (--all to list them)"}` : ""}.`);
  }
  for (const e of result.evaluationErrors) io.err(`evaluation error: ${e.policyId} on ${e.assignmentId}: ${e.message}`);
  if (failOn.data === "never") return EXIT.ok;
  const threshold = rank(failOn.data);
  return open.some((f) => rank(f.severity) >= threshold) ? EXIT.findings : EXIT.ok;
}

async function test(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  if (values.help) return io.out(HELP.test!), EXIT.ok;
  const pack = await loadPack(positionals[0] ?? BUILT_IN_POLICIES);
  const results = runPolicyTests(pack.policies);
  const passed = results.filter((r) => r.passed).length;
  if (values.json) {
    io.out(json({ results, passed, failed: results.length - passed }));
  } else {
    for (const r of results) {
      io.out(`${r.passed ? "✓" : "✗"} ${r.policyId} › ${r.name}${r.passed ? "" : ` — expected ${r.expected}, got ${r.actual}${r.detail ? ` (${r.detail})` : ""} [${r.file}]`}`);
    }
    io.out(`\n${passed} passed, ${results.length - passed} failed`);
  }
  return passed === results.length ? EXIT.ok : EXIT.testsFailed;
}

async function policies(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { policies: { type: "string" }, json: { type: "boolean" } });
  const [verb, id] = positionals;
  if (values.help || !verb) return io.out(HELP.policies!), values.help ? EXIT.ok : EXIT.usage;
  const pack = await loadPack(typeof values.policies === "string" ? values.policies : BUILT_IN_POLICIES);
  const summary = (p: PolicyPack["policies"][number]) => ({
    id: p.id,
    title: p.title,
    severity: p.severity,
    action: p.action,
    description: p.description.trim(),
    references: p.references,
    condition: p.condition.trim(),
    parameters: p.parameters,
    reads: p.reads,
    tests: p.tests.map((t) => ({ name: t.name, expect: t.expect })),
    file: p.file,
  });
  if (verb === "list") {
    const list = [...pack.policies].sort((a, b) => rank(b.severity) - rank(a.severity) || a.id.localeCompare(b.id));
    if (values.json) io.out(json({ policies: list.map(summary) }));
    else io.out(table(["ID", "SEVERITY", "ACTION", "READS"], list.map((p) => [p.id, p.severity, p.action, p.reads.join(", ")])));
    return EXIT.ok;
  }
  if (verb === "show") {
    if (!id) throw new UsageError("policies show needs a policy id");
    const policy = pack.policies.find((p) => p.id === id);
    if (!policy) throw new UsageError(`no policy '${id}' in ${pack.dir} (grantguard policies list shows them)`);
    const s = summary(policy);
    if (values.json) {
      io.out(json(s));
    } else {
      io.out(
        [
          `${s.id} — ${s.title}`,
          `severity: ${s.severity}    action: ${s.action}    file: ${s.file}`,
          "",
          s.description,
          "",
          `condition: ${s.condition}`,
          `reads: ${s.reads.join(", ")}`,
          ...(Object.keys(s.parameters).length ? [`parameters: ${Object.entries(s.parameters).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")}`] : []),
          `references:${s.references.map((r) => `\n  - ${r}`).join("")}`,
          `tests:${s.tests.map((t) => `\n  - ${t.name} (${t.expect})`).join("")}`,
        ].join("\n"),
      );
    }
    return EXIT.ok;
  }
  throw new UsageError(`unknown policies command '${verb}' (list or show)`);
}

async function validate(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  if (values.help) return io.out(HELP.validate!), EXIT.ok;
  const dir = positionals[0] ?? BUILT_IN_POLICIES;
  const result = await loadPolicyDir(dir);
  const exemptions = await loadExemptions(dir, new Set(result.policies.map((p) => p.id)));
  const errors = [...(result.status === "invalid" ? result.errors : []), ...exemptions.errors];
  if (values.json) {
    io.out(json({ valid: errors.length === 0, policies: result.policies.length, exemptions: exemptions.exemptions.length, errors: errors.map((e) => ({ file: e.file, line: e.line ?? null, policyId: e.policyId ?? null, message: e.detail })) }));
  } else {
    for (const e of errors) io.err(e.message);
    io.out(errors.length ? `${errors.length} error(s) in ${dir}` : `${result.policies.length} policies and ${exemptions.exemptions.length} exemption(s) in ${dir} are valid`);
  }
  return errors.length ? EXIT.invalid : EXIT.ok;
}

const endpointsSchema = z.object({
  GRANTGUARD_ARM_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://management.azure.com"),
  GRANTGUARD_GRAPH_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://graph.microsoft.com"),
});

async function snapshot(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { scope: { type: "string", multiple: true }, out: { type: "string" }, "tenant-id": { type: "string" } });
  if (values.help || positionals[0] !== "export") return io.out(HELP.snapshot!), values.help ? EXIT.ok : EXIT.usage;
  const scopes = (values.scope as string[] | undefined) ?? [];
  if (scopes.length === 0 || scopes.some((s) => !s.startsWith("/"))) throw new UsageError("snapshot export needs at least one --scope starting with /");
  const endpoints = endpointsSchema.safeParse(process.env);
  if (!endpoints.success) throw new UsageError(`bad endpoint setting: ${endpoints.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const credential = withTokenTimeout(new DefaultAzureCredential(), 60_000);
  let tenantId = typeof values["tenant-id"] === "string" ? values["tenant-id"] : undefined;
  if (!tenantId) {
    const token = await credential.getToken("https://management.azure.com/.default");
    const claims = token ? (JSON.parse(Buffer.from(token.token.split(".")[1] ?? "", "base64url").toString("utf8")) as { tid?: unknown }) : {};
    if (typeof claims.tid !== "string") throw new UsageError("cannot tell the tenant id from the token: pass --tenant-id");
    tenantId = claims.tid;
  }
  const { snapshot: exported, summary } = await exportSnapshot(
    { authorization: createAuthorizationClient(credential, endpoints.data.GRANTGUARD_ARM_ENDPOINT), principals: new GraphPrincipals(createGraphClient(credential, endpoints.data.GRANTGUARD_GRAPH_ENDPOINT)), tenantId },
    scopes,
  );
  const text = `${JSON.stringify(exported, null, 2)}\n`;
  if (typeof values.out === "string") await writeFile(values.out, text);
  else io.out(text.trimEnd());
  io.err(
    `exported ${summary.roleAssignments} role assignments, ${summary.roleDefinitions} role definitions and ${summary.principals} principals` +
      `${summary.missingPrincipals ? ` (${summary.missingPrincipals} assigned principal(s) no longer exist)` : ""}` +
      `${summary.pimIncluded ? "" : "; PIM could not be read, so the snapshot says nothing about PIM"}${typeof values.out === "string" ? ` to ${values.out}` : ""}`,
  );
  return EXIT.ok;
}

const storeSettings = z.object({
  GRANTGUARD_TABLE_ENDPOINT: z.url({ protocol: /^https$/, message: "must be an https:// URL" }),
  GRANTGUARD_REVOCATIONS_TABLE: z.string().default("revocations"),
  GRANTGUARD_ALERTS_TABLE: z.string().default("alerts"),
  GRANTGUARD_ARM_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://management.azure.com"),
});

/** The caller's credential and who it is (UPN, else object id), and the revocation store. */
async function asCaller() {
  const settings = storeSettings.safeParse(process.env);
  if (!settings.success) throw new UsageError(`set ${settings.error.issues.map((i) => `${i.path.join(".")} (${i.message})`).join(", ")}`);
  const credential = withTokenTimeout(new DefaultAzureCredential(), 60_000);
  const token = await credential.getToken("https://management.azure.com/.default");
  const claims = token ? (JSON.parse(Buffer.from(token.token.split(".")[1] ?? "", "base64url").toString("utf8")) as { upn?: unknown; oid?: unknown; unique_name?: unknown }) : {};
  const who = [claims.upn, claims.unique_name, claims.oid].find((v): v is string => typeof v === "string") ?? "unknown caller";
  const revocations = new TableRevocationStore(new TableClient(settings.data.GRANTGUARD_TABLE_ENDPOINT, settings.data.GRANTGUARD_REVOCATIONS_TABLE, credential));
  const deliveries = new TableAlertDeliveries(new TableClient(settings.data.GRANTGUARD_TABLE_ENDPOINT, settings.data.GRANTGUARD_ALERTS_TABLE, credential));
  return { credential, who, revocations, deliveries, armEndpoint: settings.data.GRANTGUARD_ARM_ENDPOINT };
}

async function restore(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { reason: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return io.out(HELP.restore!), EXIT.ok;
  const id = positionals[0];
  if (!id || typeof values.reason !== "string") throw new UsageError("restore needs a revocation id and --reason");
  const caller = await asCaller();
  const writer = new ArmRoleAssignmentWriter(createAuthorizationClient(caller.credential, caller.armEndpoint));
  const result = await restoreAssignment({ revocations: caller.revocations, writer, now: () => new Date() }, id, { reason: values.reason, requestedBy: caller.who });
  const r = result.revocation;
  if (values.json) io.out(json({ status: result.status, revocation: { ...r, findings: undefined } }));
  else io.out(result.status === "restored" ? `restored ${r.assignmentId} (${r.principalType} ${r.principalId}, role ${r.roleDefinitionId.split("/").pop()}) as ${caller.who}: ${r.restoreReason}` : `already restored by ${r.restoredBy} at ${r.restoredAt}: nothing to do`);
  return EXIT.ok;
}

async function rearm(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, { reason: { type: "string" } });
  if (values.help) return io.out(HELP.rearm!), EXIT.ok;
  if (typeof values.reason !== "string") throw new UsageError("rearm needs --reason");
  const caller = await asCaller();
  const result = await rearmRevocation({ revocations: caller.revocations, now: () => new Date() }, { reason: values.reason, requestedBy: caller.who });
  io.out(result.wasTripped ? `revocation re-armed by ${caller.who}: ${result.breaker.rearmReason}` : "revocation was not stopped; recorded the re-arm anyway");
  return EXIT.ok;
}

async function revocations(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  if (values.help || positionals[0] !== "list") return io.out(HELP.revocations!), values.help ? EXIT.ok : EXIT.usage;
  const caller = await asCaller();
  const [list, breaker] = await Promise.all([caller.revocations.list(), caller.revocations.getBreaker()]);
  if (values.json) {
    io.out(json({ breaker, revocations: list.map(({ findings: _findings, ...r }) => r) }));
  } else {
    io.out(table(["ID", "STATUS", "WHEN", "PRINCIPAL", "SCOPE", "POLICIES"], list.map((r) => [r.id, r.status, r.deletedAt ?? r.createdAt, `${r.principalType} ${r.principalId}`, r.scope, r.policyIds.join(", ")])));
    io.out(breaker.tripped ? `\nrevocation is STOPPED since ${breaker.trippedAt}: ${breaker.reason} (npx grantguard rearm --reason …)` : "\nrevocation is armed");
  }
  return EXIT.ok;
}

async function alerts(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { status: { type: "string" }, json: { type: "boolean" } });
  if (values.help || positionals[0] !== "list") return io.out(HELP.alerts!), values.help ? EXIT.ok : EXIT.usage;
  const status = z.enum(["pending", "digest", "delivered", "failed"]).optional().safeParse(values.status);
  if (!status.success) throw new UsageError("--status must be pending, digest, delivered or failed");
  const caller = await asCaller();
  const list = await caller.deliveries.list(status.data ? { status: status.data } : {});
  if (values.json) {
    io.out(json({ alerts: list.map(({ payload, ...d }) => ({ ...d, alert: JSON.parse(payload) as unknown })) }));
  } else {
    io.out(table(["ALERT", "CHANNEL", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"], list.map((d) => [d.alertId, d.channel, d.status, String(d.attempts), d.createdAt, d.lastError ?? ""])));
    const failed = list.filter((d) => d.status === "failed").length;
    io.out(`\n${list.length} deliveries${failed ? `, ${failed} FAILED (they gave up after GRANTGUARD_ALERT_MAX_ATTEMPTS tries)` : ""}`);
  }
  return EXIT.ok;
}

const COMMANDS: Record<string, (argv: readonly string[], io: Io) => Promise<number>> = { evaluate, test, policies, validate, snapshot, restore, rearm, revocations, alerts };

/** Runs one command line; returns the exit code. Errors are reported, never thrown. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") return io.out(HELP.main!), command ? EXIT.ok : EXIT.usage;
  const handler = COMMANDS[command];
  try {
    if (!handler) throw new UsageError(`unknown command '${command}'`);
    return await handler(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`grantguard: ${error.message}\n\n${HELP[command] ?? HELP.main}`);
      return EXIT.usage;
    }
    if (error instanceof RangeError) {
      io.err(`grantguard: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof PolicyLoadError) {
      for (const e of error.errors) io.err(e.message);
      return EXIT.invalid;
    }
    if (error instanceof PolicyValidationError || error instanceof SnapshotError || error instanceof GrantGuardError) {
      io.err(`grantguard: ${error.message}`);
      return EXIT.invalid;
    }
    if (typeof (error as { statusCode?: unknown }).statusCode === "number" || (error as Error).name === "CredentialUnavailableError" || (error as Error).name === "AuthenticationError") {
      io.err(`grantguard: Azure: ${describeError(error)}`);
      return EXIT.azure;
    }
    throw error;
  }
}
