import { parse } from "../args.js";
import { UsageError } from "../errors.js";
import { json, table } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard revocations list [--json]

Lists grantguard's revocations (backups) and the state of the blast-radius breaker.
Reads GRANTGUARD_TABLE_ENDPOINT with your Azure sign-in (Storage Table Data Reader), or the
local Azure of a running npm start.`;

/** grantguard revocations list: what grantguard revoked, and the breaker. */
export const revocations: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values, positionals } = parse(argv, { json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    if (positionals[0] !== "list") throw new UsageError(positionals[0] ? `unknown revocations command '${positionals[0]}' (list)` : "revocations needs list");
    const { connectOperator } = await import("../azure.js");
    const operator = await connectOperator(context, { tables: "Storage Table Data Reader on grantguard's storage account" });
    const [list, breaker] = await Promise.all([operator.revocations.list(), operator.revocations.getBreaker()]);
    if (values.json) {
      io.out(json({ breaker, revocations: list.map(({ findings: _findings, ...r }) => r) }));
      return EXIT.ok;
    }
    io.out(table(["ID", "STATUS", "WHEN", "PRINCIPAL", "SCOPE", "POLICIES"], list.map((r) => [r.id, r.status, r.deletedAt ?? r.createdAt, `${r.principalType} ${r.principalId}`, r.scope, r.policyIds.join(", ")])));
    io.out(breaker.tripped ? `\nrevocation is STOPPED since ${breaker.trippedAt}: ${breaker.reason} (npx grantguard rearm --reason …)` : "\nrevocation is armed");
    return EXIT.ok;
  },
};
