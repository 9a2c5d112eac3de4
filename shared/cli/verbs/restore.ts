import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { json } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard restore ID --reason TEXT [--json]

Recreates a role assignment grantguard revoked, from its backup, with the same name and
properties, using YOUR Azure credentials (az login…), so grantguard's own identity never needs
the right to create assignments. Records who restored it and why; grantguard will not revoke
that assignment again. Restoring twice changes nothing. "grantguard revocations list" shows
the ids.

Needs Microsoft.Authorization/roleAssignments/write at the assignment's scope and Storage Table
Data Contributor on grantguard's storage account (GRANTGUARD_TABLE_ENDPOINT), or a running
npm start, whose local Azure it then uses as a security admin of the tenant.`;

/** grantguard restore ID: put a revoked assignment back with the operator's own rights. */
export const restore: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values, positionals } = parse(argv, { reason: { type: "string" }, json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const id = positionals[0];
    const reason = stringOption(values.reason);
    if (!id || reason === undefined) throw new UsageError("restore needs a revocation id and --reason");
    if (reason.trim().length < 10) throw new UsageError("say why the assignment comes back (--reason, 10 characters at least): it is recorded");
    const [{ connectOperator }, { restoreAssignment }] = await Promise.all([import("../azure.js"), import("../../usecases/restoreAssignment.js")]);
    const operator = await connectOperator(context, {
      tables: "Storage Table Data Contributor on grantguard's storage account",
      arm: "Microsoft.Authorization/roleAssignments/write at the assignment's scope (Owner, User Access Administrator or Role Based Access Control Administrator)",
    });
    const who = await operator.who();
    const result = await restoreAssignment({ revocations: operator.revocations, writer: operator.writer, now: () => new Date() }, id, { reason, requestedBy: who });
    const r = result.revocation;
    if (values.json) io.out(json({ status: result.status, revocation: { ...r, findings: undefined } }));
    else io.out(result.status === "restored" ? `restored ${r.assignmentId} (${r.principalType} ${r.principalId}, role ${r.roleDefinitionId.split("/").pop()}) as ${who}: ${r.restoreReason}` : `already restored by ${r.restoredBy} at ${r.restoredAt}: nothing to do`);
    return EXIT.ok;
  },
};
