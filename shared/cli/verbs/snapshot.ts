import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../../errors.js";
import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard snapshot export --scope SCOPE [--scope SCOPE …] [--out FILE] [--tenant-id ID]

Reads role assignments (at, above and below each scope), role definitions, PIM schedule
instances and the principals they name, through the same ARM and Microsoft Graph adapters the
functions use, and writes a tenant snapshot (stdout unless --out). Signs in with your Azure
credentials (az login, a service principal in AZURE_* variables, a managed identity…), which
need Reader on the scopes and Directory.Read.All in Microsoft Graph.
GRANTGUARD_ARM_ENDPOINT and GRANTGUARD_GRAPH_ENDPOINT point it at another cloud.

  --scope SCOPE      e.g. /subscriptions/{id} or /providers/Microsoft.Management/managementGroups/{name}
  --out FILE         write here instead of stdout
  --tenant-id ID     tenant id to record (default: the token's tenant)`;

const endpointsSchema = z.object({
  GRANTGUARD_ARM_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://management.azure.com"),
  GRANTGUARD_GRAPH_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://graph.microsoft.com"),
});

/** grantguard snapshot export: a tenant snapshot from a live tenant, for the what-if. */
export const snapshot: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values, positionals } = parse(argv, { scope: { type: "string", multiple: true }, out: { type: "string" }, "tenant-id": { type: "string" } });
    if (values.help) return io.out(usage), EXIT.ok;
    if (positionals[0] !== "export") throw new UsageError(positionals[0] ? `unknown snapshot command '${positionals[0]}' (export)` : "snapshot needs export");
    const scopes = Array.isArray(values.scope) ? values.scope.filter((s): s is string => typeof s === "string") : [];
    if (scopes.length === 0 || scopes.some((s) => !s.startsWith("/"))) throw new UsageError("snapshot export needs at least one --scope starting with /");
    const endpoints = endpointsSchema.safeParse(process.env);
    if (!endpoints.success) throw new ConfigError(`invalid settings: ${endpoints.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
    const out = stringOption(values.out);

    const [{ operatorCredential, tenantOf }, { createExportSources }, { exportSnapshot }] = await Promise.all([import("../azure.js"), import("../../azure/compose.js"), import("../../azure/exportSnapshot.js")]);
    context.azure.push(
      { name: "Azure Resource Manager", endpoint: endpoints.data.GRANTGUARD_ARM_ENDPOINT, needs: "Reader (Microsoft.Authorization/roleAssignments/read and roleDefinitions/read) on the scopes you export" },
      { name: "Microsoft Graph", endpoint: endpoints.data.GRANTGUARD_GRAPH_ENDPOINT, needs: "Directory.Read.All (or User.Read.All, Group.Read.All and Application.Read.All) in Microsoft Graph" },
    );
    const credential = operatorCredential();
    const tenantId = stringOption(values["tenant-id"]) ?? (await tenantOf(credential));
    if (!tenantId) throw new UsageError("cannot tell the tenant id from the token: pass --tenant-id");
    const { snapshot: exported, summary } = await exportSnapshot(
      { ...createExportSources({ armEndpoint: endpoints.data.GRANTGUARD_ARM_ENDPOINT, graphEndpoint: endpoints.data.GRANTGUARD_GRAPH_ENDPOINT }, credential), tenantId },
      scopes,
    );
    const text = `${JSON.stringify(exported, null, 2)}\n`;
    if (out !== undefined) await writeFile(out, text);
    else await io.write(text);
    io.err(
      `exported ${summary.roleAssignments} role assignments, ${summary.roleDefinitions} role definitions and ${summary.principals} principals` +
        `${summary.missingPrincipals ? ` (${summary.missingPrincipals} assigned principal(s) no longer exist)` : ""}` +
        `${summary.pimIncluded ? "" : "; PIM could not be read, so the snapshot says nothing about PIM"}${out !== undefined ? ` to ${out}` : ""}`,
    );
    return EXIT.ok;
  },
};
